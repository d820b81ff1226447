"""tasks/server.py: checks, power changes, rebuild, restored servers."""

import time
from unittest import mock

from openstack import exceptions as sdk_exc

from backup_flows import exceptions
from backup_flows import keys
from backup_flows.tasks import server as server_tasks

from tests.unit.tasks import taskcase

JOB = taskcase.JOB
SPEC = {'name': 'web-1', 'flavor_id': 'f1', 'networks': [{'uuid': 'n1'}],
        'security_groups': ['default'], 'metadata': {'a': 'b'}, 'tags': ['t'],
        'availability_zone': 'az1', 'key_name': 'k1',
        'root': {'kind': 'image', 'key': 'image_vda'},
        'volumes': [{'key': 'volume_vdb'}]}
BOOT_VOLUME = dict(SPEC, root={'kind': 'volume', 'key': 'volume_vda'},
                   volumes=[])


class CheckServerReadyTestCase(taskcase.TaskTestCase):

    def setUp(self):
        super().setUp()
        self.task = server_tasks.CheckServerReady(name='check-server')

    def test_returns_the_state_of_a_stable_server(self):
        self.cloud.add_server('srv', status='SHUTOFF')
        self.assertEqual({'status': 'SHUTOFF'},
                         self.task.execute('c', 'srv', 'SHUTOFF'))
        self.conn.compute.get_server.assert_called_once_with('srv')

    def test_facts_planned_a_moment_ago_are_not_read_again(self):
        self.cloud.add_server('srv', status='ACTIVE')
        self.assertEqual({'status': 'PAUSED'},
                         self.task.execute('c', 'srv', 'PAUSED',
                                           planned_at=time.time() - 1))
        self.conn.compute.get_server.assert_not_called()

    def test_a_resumed_job_reads_the_server_again(self):
        self.cloud.add_server('srv', status='ACTIVE')
        for planned_at in (time.time() - 3600, time.time() + 60, None):
            self.assertRaises(exceptions.InvalidServerState,
                              self.task.execute, 'c', 'srv', 'PAUSED',
                              planned_at=planned_at)
        self.assertEqual(3, self.conn.compute.get_server.call_count)

    def test_the_flow_hands_it_the_planning_time_from_the_store(self):
        self.assertIn(keys.PLANNED_AT, self.task.optional)

    def test_a_server_busy_or_in_error_is_refused(self):
        self.cloud.add_server('srv', status='ERROR')
        self.assertRaises(exceptions.InvalidServerState, self.task.execute,
                          'c', 'srv')
        self.cloud.servers['srv'].update(status='ACTIVE',
                                         task_state='image_uploading')
        self.assertRaises(exceptions.InvalidServerState, self.task.execute,
                          'c', 'srv')

    def test_a_server_no_longer_as_planned_is_refused(self):
        self.cloud.add_server('srv', status='PAUSED')
        exc = self.assertRaises(exceptions.InvalidServerState,
                                self.task.execute, 'c', 'srv', 'ACTIVE')
        self.assertIn('as when the job was planned', str(exc))

    def test_a_missing_server_is_named(self):
        self.conn.config = mock.NonCallableMock(spec=['name'])
        self.conn.config.name = 'east'
        exc = self.assertRaises(exceptions.ServerNotFound,
                                self.task.execute, 'c', 'gone')
        self.assertIn('east', str(exc))


class PowerChangeTestCase(taskcase.TaskTestCase):
    """Pause/Unpause/Stop/Start act only on a server running before."""

    def state(self, status):
        self.cloud.servers['srv']['status'] = status

    def setUp(self):
        super().setUp()
        self.cloud.add_server('srv')

    def test_pause_and_unpause(self):
        pause = server_tasks.PauseServer(name='pause-server')
        pause.execute('c', 'srv', {'status': 'ACTIVE'})
        self.conn.compute.pause_server.assert_called_once_with('srv')
        self.assertEqual('PAUSED', self.cloud.servers['srv']['status'])
        server_tasks.UnpauseServer(name='unpause-server').execute(
            'c', 'srv', {'status': 'ACTIVE'})
        self.conn.compute.unpause_server.assert_called_once_with('srv')
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])

    def test_stop_and_start(self):
        server_tasks.StopServer(name='stop-server').execute(
            'c', 'srv', {'status': 'ACTIVE'})
        self.conn.compute.stop_server.assert_called_once_with('srv')
        server_tasks.StartServer(name='start-server').execute(
            'c', 'srv', {'status': 'ACTIVE'})
        self.conn.compute.start_server.assert_called_once_with('srv')
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])

    def test_a_server_not_running_before_is_left_alone(self):
        self.state('SHUTOFF')
        for cls in (server_tasks.PauseServer, server_tasks.UnpauseServer,
                    server_tasks.StopServer, server_tasks.StartServer):
            cls(name='t').execute('c', 'srv', {'status': 'SHUTOFF'})
        self.conn.compute.get_server.assert_not_called()

    def test_a_server_already_there_is_not_acted_on(self):
        self.state('PAUSED')
        server_tasks.PauseServer(name='pause-server').execute(
            'c', 'srv', {'status': 'ACTIVE'})
        self.assertNoChange('compute.pause_server')

    def test_revert_undoes_the_change(self):
        self.state('PAUSED')
        result = server_tasks.PauseServer(name='pause-server').revert(
            None, 'c', 'srv', {'status': 'ACTIVE'})
        self.assertIsNone(result)
        self.conn.compute.unpause_server.assert_called_once_with('srv')
        self.state('SHUTOFF')
        server_tasks.StopServer(name='stop-server').revert(
            None, 'c', 'srv', {'status': 'ACTIVE'})
        self.conn.compute.start_server.assert_called_once_with('srv')
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])

    def test_revert_after_a_failed_change_changes_nothing(self):
        for cls in (server_tasks.PauseServer, server_tasks.StopServer):
            cls(name='t').revert(taskcase.a_failure(), 'c', 'srv',
                                 {'status': 'ACTIVE'})
            cls(name='t').revert(None, 'c', 'srv', {'status': 'SHUTOFF'})
        self.assertNoChange('compute.unpause_server', 'compute.start_server')

    def test_revert_swallows_its_errors(self):
        for cls in (server_tasks.PauseServer, server_tasks.StopServer):
            self.assertRevertSwallows(cls(name='t'), 'compute.get_server',
                                      None, 'c', 'srv', {'status': 'ACTIVE'})

    def test_rebuild_waits_until_nova_is_done(self):
        self.cloud.add_image('img', b'root')
        self.assertIsNone(server_tasks.RebuildServer(
            name='rebuild-server').execute('c', 'srv', 'img'))
        self.conn.compute.rebuild_server.assert_called_once_with(
            'srv', image='img')
        self.conn.compute.get_server.assert_called_with('srv')


class CreateServerTestCase(taskcase.TaskTestCase):

    def setUp(self):
        super().setUp()
        self.task = server_tasks.CreateServer(name='create-server')

    def created(self):
        return self.conn.compute.create_server.call_args.kwargs

    def test_image_backed_server_with_volumes_at_boot(self):
        server_id = self.task.execute('c', JOB, SPEC, image_vda='img',
                                      volume_vdb='v1')
        self.assertEqual([server_id], list(self.cloud.servers))
        attrs = self.created()
        self.assertEqual('img', attrs['image_id'])
        self.assertEqual(
            [('img', 'image', 'local', 0, True),
             ('v1', 'volume', 'volume', -1, False)],
            [(d['uuid'], d['source_type'], d['destination_type'],
              d['boot_index'], d['delete_on_termination'])
             for d in attrs['block_device_mapping']])
        self.assertEqual({'a': 'b', 'backup_flows_job_id': JOB},
                         attrs['metadata'])
        self.assertEqual([{'name': 'default'}], attrs['security_groups'])
        self.assertEqual(('f1', 'az1', 'k1', ['t']),
                         (attrs['flavor_id'], attrs['availability_zone'],
                          attrs['key_name'], attrs['tags']))

    def test_image_backed_server_alone_has_no_block_devices(self):
        self.task.execute('c', JOB, dict(SPEC, volumes=[]), image_vda='img')
        self.assertNotIn('block_device_mapping', self.created())

    def test_boot_volume_is_boot_index_0(self):
        self.task.execute('c', JOB, BOOT_VOLUME, volume_vda='root')
        attrs = self.created()
        self.assertNotIn('image_id', attrs)
        self.assertEqual([('root', 0, 'volume')], [
            (d['uuid'], d['boot_index'], d['source_type'])
            for d in attrs['block_device_mapping']])

    def test_rerun_adopts_the_server_of_the_job(self):
        self.cloud.add_server('other', name='web-1',
                              metadata={'backup_flows_job_id': 'x'})
        self.cloud.add_server('mine', name='web-1',
                              metadata={'backup_flows_job_id': JOB})
        self.assertEqual('mine', self.task.execute(
            'c', JOB, BOOT_VOLUME, volume_vda='root'))
        self.conn.compute.servers.assert_called_once_with(
            details=True, name='web\\-1')
        self.assertNoChange('compute.create_server')

    def test_revert_deletes_and_waits_for_the_volumes(self):
        server_id = self.task.execute('c', JOB, SPEC, image_vda='img',
                                      volume_vdb='v1')
        self.cloud.add_volume('v1')
        self.assertIsNone(self.task.revert(server_id, 'c', JOB, SPEC,
                                           image_vda='img', volume_vdb='v1'))
        self.conn.compute.delete_server.assert_called_once_with(
            server_id, ignore_missing=True)
        self.assertEqual({}, self.cloud.servers)
        self.conn.block_storage.get_volume.assert_called_once_with('v1')

    def test_revert_without_a_server_deletes_nothing(self):
        self.task.revert(taskcase.a_failure(), 'c', JOB, SPEC,
                         image_vda='img', volume_vdb='v1')
        self.assertNoChange('compute.delete_server',
                            'block_storage.get_volume')

    def test_revert_swallows_its_errors(self):
        result = self.assertRevertSwallows(self.task, 'compute.servers',
                                           'srv-1', 'c', JOB, SPEC)
        self.assertEqual({keys.REVERT_FAILED:
                          'HttpException: 503 Service Unavailable'}, result)


class WaitForServerActiveTestCase(taskcase.TaskTestCase):

    def test_an_active_server(self):
        self.cloud.add_server('srv')
        server_tasks.WaitForServerActive(name='wait').execute('c', 'srv')
        self.conn.compute.get_server.assert_called_with('srv')

    def test_a_server_in_error_fails_with_novas_fault(self):
        self.cloud.add_server('srv', status='ERROR',
                              fault={'message': 'No valid host'})
        exc = self.assertRaises(
            exceptions.ResourceFailed,
            server_tasks.WaitForServerActive(name='wait').execute, 'c',
            'srv')
        self.assertIn('No valid host', str(exc))

    def test_a_server_gone_is_not_found(self):
        self.cloud.fail('compute.get_server', sdk_exc.NotFoundException())
        task = server_tasks.WaitForServerActive(name='wait')
        self.assertRaises(exceptions.NotFound, task.execute, 'c', 'srv')
