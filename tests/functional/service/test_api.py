"""backup-flows as a service: its API over real HTTP with Keystone tokens,
its conductors on the Redis jobboard, Keystone trusts; bytes compared.

Needs ``tools/minicloud/minicloud start --with backup-flows``.
"""

import time

import requests

from tests.functional import leaks
from tests.functional import minicloud as mc

API = {'service_type': 'server-protection', 'interface': 'public'}
WAIT = 300


class ServiceTestCase(mc.MiniCloudTestCase):

    COMPONENTS = ('backup-flows',)
    OWN_PROJECT = True

    def api(self, method, path, conn=None, **kwargs):
        conn = conn or self.conn
        return conn.session.request(path, method, endpoint_filter=API,
                                    raise_exc=False, **kwargs)

    def assertStatus(self, status, response):
        self.assertEqual(status, response.status_code, response.text)
        return response.json() if response.content else None

    def assertError(self, status, response):
        body = self.assertStatus(status, response)
        error = body['errors'][0]
        self.assertEqual(status, error['status'])
        self.assertTrue(error['request_id'].startswith('req-'), error)
        return error

    def wait_for(self, path, key, status='available', timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            found = self.assertStatus(200, self.api('GET', path))[key]
            if found['status'] == status:
                return found
            self.assertNotEqual('error', found['status'], found)
            self.assertLess(time.monotonic(), deadline, found)
            time.sleep(2)

    def back_up(self, server):
        posted = self.assertStatus(202, self.api(
            'POST', '/v1/backups', json={'backup': {'server_id': server.id,
                                                    'tags': ['ft']}}))
        backup = posted['backup']
        self.assertEqual('creating', backup['status'])
        return self.wait_for('/v1/backups/%s' % backup['id'], 'backup')

    def restored_disks(self, server_id):
        server = self.conn.compute.get_server(server_id)
        volumes = [att['id'] for att in server.attached_volumes]
        for volume_id in volumes:
            self.addCleanup(self._delete_volume, self.conn, volume_id)
        # cleanups run last first: the server goes before its volumes
        self.addCleanup(self._delete_server, self.conn, server_id)
        return [mc.server_disk_path(server_id)] + [
            mc.volume_path(v) for v in volumes]

    def trusts_of_project(self):
        project_id = self.conn.current_project_id
        return [trust for trust in self.admin_conn.identity.trusts()
                if trust.project_id == project_id]


class BackupRestoreTestCase(ServiceTestCase):

    def test_backup_delete_then_restore_through_the_api(self):
        server, volumes = self.make_server(volumes=1)
        paths = self.disk_paths(server, volumes)
        expected = self.write_generation(paths, 1)

        backup = self.back_up(server)

        self.assertEqual(['sha256:%s' % digest for digest in expected],
                         [disk['checksum'] for disk in backup['disks']])
        self.assertEqual((2, ['ft']), (backup['disk_count'],
                                       backup['tags']))
        job = self.assertStatus(200, self.api(
            'GET', '/v1/jobs/%s' % backup['job_id']))['job']
        self.assertEqual(('SUCCESS', 'backup-create', 1),
                         (job['state'], job['flow'], job['attempts']))
        listed = self.assertStatus(200, self.api(
            'GET', '/v1/backups?server_id=%s' % server.id))['backups']
        self.assertEqual([backup['id']], [b['id'] for b in listed])
        # the job held the trust; nothing holds it now
        self.assertEqual([], self.trusts_of_project())

        self.conn.compute.delete_volume_attachment(server, volumes[0].id)
        self.wait_volume(volumes[0].id, 'available')
        self.conn.compute.delete_server(server)
        self.conn.compute.wait_for_delete(server, wait=120)

        posted = self.assertStatus(202, self.api(
            'POST', '/v1/restores', json={'restore': {
                'backup_id': backup['id'], 'name': 'ft-restored'}}))
        self.assertEqual('restoring', posted['restore']['status'])
        restore = self.wait_for('/v1/restores/%s' % posted['restore']['id'],
                                'restore')

        self.assertEqual([], leaks.job_leaks(self.conn, backup['job_id']))
        restored = self.restored_disks(restore['server_id'])
        self.assertEqual(expected, [mc.sha256_of(p) for p in restored])
        self.assertEqual('ft-restored', self.conn.compute.get_server(
            restore['server_id']).name)
        self.assertEqual([], self.trusts_of_project())


class IsolationAndInputTestCase(ServiceTestCase):

    def test_another_project_sees_nothing_and_cannot_back_up(self):
        server = self.create_server(flavor=mc.SMALL_FLAVOR)
        backup = self.back_up(server)
        alt = mc.connection('minicloud-alt')
        for path in ('/v1/backups/%s' % backup['id'],
                     '/v1/jobs/%s' % backup['job_id']):
            self.assertError(404, self.api('GET', path, conn=alt))
        self.assertNotIn(backup['id'], [b['id'] for b in self.assertStatus(
            200, self.api('GET', '/v1/backups', conn=alt))['backups']])
        error = self.assertError(400, self.api(
            'POST', '/v1/backups', conn=alt,
            json={'backup': {'server_id': server.id}}))
        self.assertIn(server.id, error['detail'])
        # admin sees every project's with all_projects=1
        admin = self.assertStatus(200, self.api(
            'GET', '/v1/backups?all_projects=1',
            conn=self.admin_conn))['backups']
        self.assertIn(backup['id'], [b['id'] for b in admin])

    def test_bad_input_gets_its_status_and_posts_no_job(self):
        before = self.assertStatus(200, self.api('GET', '/v1/jobs'))['jobs']
        endpoint = self.conn.session.get_endpoint(**API)
        self.assertError(401, requests.get(endpoint + '/v1/backups',
                                           timeout=30))
        self.assertError(401, requests.get(
            endpoint + '/v1/backups', timeout=30,
            headers={'X-Auth-Token': 'not-a-token'}))
        for body in ({'backup': {'server_id': 'nope'}},
                     {'backup': {'server_id':
                                 '00000000-0000-0000-0000-000000000000'}},
                     {'backup': {'server_id':
                                 '00000000-0000-0000-0000-000000000000',
                                 'quiesce': 'freeze'}},
                     {'backup': {}, 'extra': True}):
            self.assertError(400, self.api('POST', '/v1/backups',
                                           json=body))
        self.assertError(400, self.api(
            'POST', '/v1/backups', data=b'{"backup": ',
            headers={'Content-Type': 'application/json'}))
        self.assertEqual(before, self.assertStatus(
            200, self.api('GET', '/v1/jobs'))['jobs'])

