"""Jobs the API posts: trust, catalog rows, posting, and their end."""

from unittest import mock

import fixtures
from taskflow import states

from backup_flows import engine
from backup_flows import exceptions
from backup_flows.cloud import trusts as cloud_trusts
from backup_flows.db import catalog
from backup_flows.db import models
from backup_flows.db import trusts as db_trusts
from backup_flows.engine import jobs
from backup_flows.operations import backups
from backup_flows.operations import restores
from backup_flows.operations import service_jobs

from tests.unit import db as db_base

SERVER = '5b8f3cbb-6d4f-4f0a-9b59-2f3c4f0d9c11'


class ServiceJobsBase(db_base.DatabaseTestCase):

    def setUp(self):
        super().setUp()
        self.context.roles = ['member', 'reader']
        self.create_trust = self.patch(cloud_trusts, 'create_trust')
        self.create_trust.side_effect = ['trust-1', 'trust-2']
        self.delete_trust = self.patch(cloud_trusts, 'delete_trust')
        self.plan = self.patch(backups, 'plan')
        self.plan.side_effect = self._plan
        self.post = self.patch(backups, 'post')
        self.planned = 0

    def patch(self, obj, name):
        return self.useFixture(fixtures.MockPatchObject(
            obj, name, autospec=True)).mock

    def _plan(self, server, url=None, quiesce=None, tags=(), cloud=None,
              **kwargs):
        self.planned += 1
        self.cloud = cloud
        return backups.BackupPlan(
            job_id='job-%d' % self.planned,
            backup_id='backup-%d' % self.planned, server_id=server,
            url='file:///repo', consistency='crash', flow_args={}, store={})


class BackupJobsTestCase(ServiceJobsBase):

    def test_a_backup_is_planned_with_the_trust_recorded_and_posted(self):
        row = service_jobs.post_backup(self.context, 'auth', SERVER,
                                       tags=['b', 'a'])
        self.assertEqual(('backup-1', 'creating', ['a', 'b']),
                         (row['id'], row['status'], row['tags']))
        self.assertEqual({'trust_id': 'trust-1'}, self.cloud)
        self.create_trust.assert_called_once_with(
            'auth', 'user-a', 'project-a', ['member', 'reader'])
        job = catalog.get_entry(self.context, models.Job, 'job-1')
        self.assertEqual(('backup', 'backup-1', 'PENDING'),
                         (job['resource_type'], job['resource_id'],
                          job['state']))
        ref = db_trusts.get_reference(self.context, 'user-a', 'project-a')
        self.assertEqual(1, ref['holders'])
        self.post.assert_called_once_with(mock.ANY)
        # a second backup reuses the trust
        service_jobs.post_backup(self.context, 'auth', SERVER)
        self.assertEqual(1, self.create_trust.call_count)

    def test_a_plan_that_fails_records_nothing(self):
        self.plan.side_effect = exceptions.ServerNotFound(server=SERVER,
                                                          cloud='trust')
        self.assertRaises(exceptions.ServerNotFound,
                          service_jobs.post_backup, self.context, 'auth',
                          SERVER)
        self.assertEqual([], catalog.list_entries(self.context,
                                                  models.Backup))
        self.post.assert_not_called()

    def test_a_post_that_fails_forgets_the_rows_and_the_trust(self):
        self.post.side_effect = exceptions.JobboardUnavailable(
            board='b', backend='redis', where='here', reason='down')
        self.assertRaises(exceptions.JobboardUnavailable,
                          service_jobs.post_backup, self.context, 'auth',
                          SERVER)
        self.assertEqual([], catalog.list_entries(self.context,
                                                  models.Backup))
        self.assertEqual([], catalog.list_entries(self.context, models.Job))
        self.assertIsNone(db_trusts.get_reference(self.context, 'user-a',
                                                  'project-a'))
        self.delete_trust.assert_called_once_with('trust-1')

    def ended(self, state, **meta):
        job = jobs.Job('job-1', state, meta)
        self.useFixture(fixtures.MockPatchObject(
            engine, 'get_job', autospec=True, return_value=job))
        return job

    def test_a_job_that_succeeded_makes_its_backup_available(self):
        service_jobs.post_backup(self.context, 'auth', SERVER)
        self.ended(states.SUCCESS, attempts=1)
        self.patch(engine, 'stored_values').return_value = {}
        created = self.patch(backups, 'committed')
        created.return_value = {
            'consistency': 'crash',
            'disks': [{'size': 1 << 20}, {'size': 2 << 20}]}

        service_jobs.record_job_end('job-1')

        backup = catalog.get_entry(self.context, models.Backup, 'backup-1')
        self.assertEqual(('available', 3 << 20, 2),
                         (backup['status'], backup['size'],
                          backup['disk_count']))
        job = catalog.get_entry(self.context, models.Job, 'job-1')
        self.assertEqual(('SUCCESS', 1), (job['state'], job['attempts']))
        # its only holder is gone: the trust is deleted
        self.delete_trust.assert_called_once_with('trust-1')
        self.assertIsNone(db_trusts.get_reference(self.context, 'user-a',
                                                  'project-a'))

    def test_a_job_that_failed_marks_its_backup_error(self):
        service_jobs.post_backup(self.context, 'auth', SERVER)
        service_jobs.post_backup(self.context, 'auth', SERVER)
        self.ended(states.REVERTED, error='the cloud said no')

        service_jobs.record_job_end('job-1')

        backup = catalog.get_entry(self.context, models.Backup, 'backup-1')
        self.assertEqual(('error', 'the cloud said no'),
                         (backup['status'], backup['error']))
        # job-2 still holds the trust
        self.delete_trust.assert_not_called()

    def test_a_started_job_lists_running(self):
        service_jobs.post_backup(self.context, 'auth', SERVER)
        service_jobs.record_job_start('job-1')
        self.assertEqual('RUNNING', catalog.get_entry(
            self.context, models.Job, 'job-1')['state'])

    def test_a_job_the_api_did_not_post_is_ignored(self):
        service_jobs.record_job_start('cli-job')
        service_jobs.record_job_end('cli-job')
        self.delete_trust.assert_not_called()


class RestoreJobsTestCase(ServiceJobsBase):

    def setUp(self):
        super().setUp()
        self.restore_plan = self.patch(restores, 'plan')
        self.restore_plan.return_value = {'server': {'name': 'again'},
                                          'disks': []}
        self.restore_post = self.patch(restores, 'post')

    def test_only_an_available_backup_is_restored(self):
        service_jobs.post_backup(self.context, 'auth', SERVER)
        self.assertRaises(exceptions.CatalogStatusConflict,
                          service_jobs.post_restore, self.context, 'auth',
                          'backup-1')
        self.assertRaises(exceptions.CatalogEntryNotFound,
                          service_jobs.post_restore, self.context, 'auth',
                          'backup-9')
        self.restore_post.assert_not_called()

    def test_a_restore_is_recorded_and_ends_with_its_server(self):
        service_jobs.post_backup(self.context, 'auth', SERVER)
        catalog.update_entry(self.context, models.Backup, 'backup-1',
                             {'status': 'available'})
        row = service_jobs.post_restore(self.context, 'auth', 'backup-1',
                                        name='again')
        self.assertEqual(('restoring', 'again'), (row['status'],
                                                  row['name']))
        cloud = self.restore_plan.call_args.kwargs['target_cloud']
        self.assertEqual({'trust_id': 'trust-1'}, cloud)
        self.assertEqual('file:///repo', self.restore_plan.call_args.kwargs[
            'repository_url'])
        job_id = self.restore_post.call_args.kwargs['job_id']
        job = jobs.Job(job_id, states.SUCCESS, {})
        self.useFixture(fixtures.MockPatchObject(
            engine, 'get_job', autospec=True, return_value=job))
        self.patch(engine, 'stored_values').return_value = {
            'server_id': 'new-server'}

        service_jobs.record_job_end(job_id)

        restore = catalog.get_entry(self.context, models.Restore, row['id'])
        self.assertEqual(('available', 'new-server'),
                         (restore['status'], restore['server_id']))
