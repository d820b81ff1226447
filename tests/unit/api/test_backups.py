"""``/v1/backups`` and ``/v1/jobs`` over the whole stack, on a SQLite
catalog; posting is faked (the functional tests post for real)."""

import json
import os

import fixtures
from oslo_config import fixture as config_fixture

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows.db import catalog
from backup_flows.db import migration
from backup_flows.db import models
from backup_flows.operations import service_jobs

from tests.unit import api
from tests.unit.db import request_context

SERVER = '5b8f3cbb-6d4f-4f0a-9b59-2f3c4f0d9c11'


class CatalogAPITestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        bf_conf.CONF([], project='backup-flows', default_config_files=[])
        global_conf = self.useFixture(config_fixture.Config(bf_conf.CONF))
        global_conf.config(state_path=tmp)
        global_conf.config(connection='sqlite:///' + os.path.join(
            tmp, 'catalog.sqlite'), group='database')
        migration.upgrade()
        self.post = self.useFixture(fixtures.MockPatchObject(
            service_jobs, 'post_backup', autospec=True)).mock
        self.post.side_effect = self._posted

    def _posted(self, context, user_auth, server_id, quiesce=None, tags=()):
        return self.add_backup(context.project_id, server_id=server_id,
                               tags=list(tags))

    def add_backup(self, project='project', status='creating', **values):
        values.setdefault('server_id', SERVER)
        row = catalog.create_entry(
            request_context(project, 'user'), models.Backup,
            dict(values, repository_url='file:///r', status=status,
                 job_id='job-%s' % project))
        return row

    def body(self, response):
        return json.loads(response.body)

    def create(self, body, token='user:project', **kwargs):
        return self.request('/v1/backups', method='POST', token=token,
                            body=json.dumps(body).encode(),
                            content_type='application/json', **kwargs)


class BackupsAPITestCase(CatalogAPITestCase):

    def test_create_needs_a_keystone_token_to_make_the_trust(self):
        # noauth2 gives no token plugin: the trust cannot be made
        self.assertError(self.create({'backup': {'server_id': SERVER}}),
                         403)
        self.post.assert_not_called()

    def test_create_posts_and_answers_202(self):
        response = self.create({'backup': {'server_id': SERVER,
                                           'tags': ['daily']}},
                               environ={'keystone.token_auth': object()})
        self.assertEqual(202, response.status_int, response.body)
        backup = self.body(response)['backup']
        self.assertEqual(('creating', SERVER, ['daily'], []),
                         (backup['status'], backup['server_id'],
                          backup['tags'], backup['disks']))
        self.assertTrue(backup['job_id'])

    def test_bad_bodies_are_400_and_post_nothing(self):
        auth = {'keystone.token_auth': object()}
        for body in ({}, {'backup': {}}, {'backup': {'server_id': 'x'}},
                     {'backup': {'server_id': SERVER, 'quiesce': 'freeze'}},
                     {'backup': {'server_id': SERVER, 'extra': 1}},
                     {'backup': {'server_id': SERVER, 'tags': 'daily'}}):
            self.assertError(self.create(body, environ=auth), 400)
        response = self.request('/v1/backups', method='POST', body=b'{x',
                                content_type='application/json')
        self.assertError(response, 400, 'backup_flows.body.malformed')
        self.post.assert_not_called()

    def test_an_unknown_server_is_400_with_its_reason(self):
        self.post.side_effect = exceptions.ServerNotFound(server=SERVER,
                                                          cloud='trust')
        error = self.assertError(self.create(
            {'backup': {'server_id': SERVER}},
            environ={'keystone.token_auth': object()}), 400)
        self.assertIn(SERVER, error['detail'])

    def test_a_reader_cannot_create(self):
        response = self.create({'backup': {'server_id': SERVER}},
                               headers={'X-Roles': 'reader'},
                               environ={'keystone.token_auth': object()})
        self.assertError(response, 403, 'backup_flows.policy.forbidden')
        self.post.assert_not_called()

    def test_list_is_per_project_filtered_and_paged(self):
        first = self.add_backup()
        second = self.add_backup(status='available')
        self.add_backup(project='other')
        listed = self.body(self.request('/v1/backups'))['backups']
        self.assertEqual([first['id'], second['id']],
                         [b['id'] for b in listed])
        page = self.body(self.request('/v1/backups?limit=1'))
        self.assertEqual([first['id']], [b['id'] for b in page['backups']])
        self.assertIn('marker=' + first['id'],
                      page['backups_links'][0]['href'])
        rest = self.body(self.request('/v1/backups?limit=1&marker='
                                      + first['id']))
        self.assertEqual([second['id']], [b['id'] for b in rest['backups']])
        available = self.body(self.request('/v1/backups?status=available'))
        self.assertEqual([second['id']],
                         [b['id'] for b in available['backups']])
        self.assertError(self.request('/v1/backups?sever_id=x'), 400)
        self.assertError(self.request('/v1/backups?limit=0'), 400)

    def test_all_projects_is_for_admins(self):
        self.add_backup()
        self.add_backup(project='other')
        self.assertError(self.request('/v1/backups?all_projects=1'), 403)
        listed = self.body(self.request('/v1/backups?all_projects=1',
                                        token='admin'))['backups']
        self.assertEqual({'project', 'other'},
                         {b['project_id'] for b in listed})

    def test_another_projects_backup_is_404(self):
        backup = self.add_backup(project='other')
        self.assertError(self.request('/v1/backups/' + backup['id']), 404)
        shown = self.body(self.request('/v1/backups/' + backup['id'],
                                       token='u:other'))['backup']
        self.assertEqual(backup['id'], shown['id'])

    def test_jobs_are_per_project(self):
        context = request_context('project', 'user')
        catalog.create_entry(context, models.Job, {
            'id': 'job-1', 'flow': 'backup-create', 'state': 'PENDING',
            'resource_type': 'backup', 'resource_id': 'b'})
        listed = self.body(self.request('/v1/jobs'))['jobs']
        self.assertEqual(['job-1'], [job['id'] for job in listed])
        self.assertEqual([], self.body(self.request(
            '/v1/jobs', token='u:other'))['jobs'])
        self.assertError(self.request('/v1/jobs/job-1', token='u:other'),
                         404)
        # never run (no persisted job): the catalog row as recorded
        shown = self.body(self.request('/v1/jobs/job-1'))['job']
        self.assertEqual('PENDING', shown['state'])


class RestoresAPITestCase(CatalogAPITestCase):

    def setUp(self):
        super().setUp()
        self.post_restore = self.useFixture(fixtures.MockPatchObject(
            service_jobs, 'post_restore', autospec=True)).mock
        self.post_restore.side_effect = self._restoring

    def _restoring(self, context, user_auth, backup_id, **kwargs):
        return catalog.create_entry(context, models.Restore, {
            'id': 'restore-1', 'job_id': 'job-r', 'backup_id': backup_id,
            'name': kwargs.get('name')})

    def restore(self, body, **kwargs):
        return self.request('/v1/restores', method='POST',
                            body=json.dumps(body).encode(),
                            content_type='application/json',
                            environ={'keystone.token_auth': object()},
                            **kwargs)

    def test_create_answers_202_restoring(self):
        response = self.restore({'restore': {'backup_id': 'b-1',
                                             'name': 'again',
                                             'networks': 'none'}})
        self.assertEqual(202, response.status_int, response.body)
        restore = self.body(response)['restore']
        self.assertEqual(('restore-1', 'restoring', 'job-r', None),
                         (restore['id'], restore['status'],
                          restore['job_id'], restore['server_id']))
        kwargs = self.post_restore.call_args.kwargs
        self.assertEqual(('again', 'none'), (kwargs['name'],
                                            kwargs['networks']))

    def test_bad_bodies_are_400(self):
        for body in ({'restore': {}}, {'restore': {'backup_id': 'b',
                                                   'networks': 'all'}},
                     {'restore': {'backup_id': 'b', 'flavor': 'x'}}):
            self.assertError(self.restore(body), 400)
        self.post_restore.assert_not_called()

    def test_an_unknown_backup_is_400(self):
        self.post_restore.side_effect = exceptions.CatalogEntryNotFound(
            kind='Backup', ident='b-9')
        error = self.assertError(self.restore(
            {'restore': {'backup_id': 'b-9'}}), 400)
        self.assertIn('b-9', error['detail'])

    def test_show_and_list_are_per_project(self):
        self.restore({'restore': {'backup_id': 'b-1'}})
        self.assertEqual('restore-1', self.body(self.request(
            '/v1/restores/restore-1'))['restore']['id'])
        self.assertError(self.request('/v1/restores/restore-1',
                                      token='u:other'), 404)
        self.assertEqual(['restore-1'], [r['id'] for r in self.body(
            self.request('/v1/restores'))['restores']])
