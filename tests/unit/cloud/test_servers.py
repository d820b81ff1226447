"""Unit tests for backup_flows.cloud.servers (facts that flows are planned
from)."""

from unittest import mock

from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as sdk_volume
from openstack.compute.v2 import server as sdk_server
from openstack.compute.v2 import volume_attachment as sdk_attachment
from openstack.image.v2 import image as sdk_image
import testtools

from backup_flows import exceptions
from backup_flows.cloud import servers

from tests.unit import fake_sdk

SERVER_ID = '11111111-1111-1111-1111-111111111111'
IMAGE_ID = '22222222-2222-2222-2222-222222222222'


def _server(**fields):
    defaults = {'id': SERVER_ID, 'name': 'web', 'status': 'ACTIVE',
                'task_state': None, 'flavor': {'vcpus': 1},
                'availability_zone': 'nova', 'image': {'id': IMAGE_ID}}
    defaults.update(fields)
    return sdk_server.Server(**defaults)


def _attachment(volume_id, device):
    return sdk_attachment.VolumeAttachment(volume_id=volume_id,
                                           device=device)


class TestDescribe(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conn = fake_sdk.connection()
        self.conn.compute.find_server.return_value = _server()
        self.conn.compute.volume_attachments.return_value = [
            _attachment('vol-b', '/dev/vdc'), _attachment('vol-a', '/dev/vdb')]
        self.conn.block_storage.get_volume.side_effect = (
            lambda vid: sdk_volume.Volume(id=vid, status='in-use'))
        self.conn.image.get_image.return_value = sdk_image.Image(
            id=IMAGE_ID, properties={'hw_qemu_guest_agent': 'yes'})

    def test_image_backed_server(self):
        facts = servers.describe(self.conn, 'web')

        self.assertEqual({'kind': 'image', 'image_id': IMAGE_ID},
                         facts['root'])
        self.assertEqual([{'volume_id': 'vol-a', 'device': '/dev/vdb'},
                          {'volume_id': 'vol-b', 'device': '/dev/vdc'}],
                         facts['volumes'])
        self.assertEqual({'vol-a': 'in-use', 'vol-b': 'in-use'},
                         facts['volume_statuses'])
        self.assertTrue(facts['guest_agent'])
        self.assertFalse(facts['require_quiesce'])
        # the server is fetched once: find_server returns every field
        self.conn.compute.find_server.assert_called_once_with(
            'web', ignore_missing=True)
        self.conn.compute.get_server.assert_not_called()
        self.conn.image.get_image.assert_called_once_with(IMAGE_ID)
        self.assertEqual(
            [mock.call('vol-a'), mock.call('vol-b')],
            sorted(self.conn.block_storage.get_volume.call_args_list))

    def test_boot_volume_server(self):
        self.conn.compute.find_server.return_value = _server(
            image={}, root_device_name='/dev/vda')
        self.conn.compute.volume_attachments.return_value = [
            _attachment('vol-data', '/dev/vdb'),
            _attachment('vol-root', '/dev/vda')]
        self.conn.block_storage.get_volume.side_effect = (
            lambda vid: sdk_volume.Volume(
                id=vid, status='in-use',
                volume_image_metadata={'os_require_quiesce': 'yes'}))

        facts = servers.describe(self.conn, SERVER_ID)

        self.assertEqual({'kind': 'volume', 'volume_id': 'vol-root',
                          'device': '/dev/vda'}, facts['root'])
        self.assertEqual([{'volume_id': 'vol-data', 'device': '/dev/vdb'}],
                         facts['volumes'])
        self.assertTrue(facts['require_quiesce'])
        self.conn.image.get_image.assert_not_called()
        # each volume once, the root's image metadata from the same lookup
        self.assertEqual(2, self.conn.block_storage.get_volume.call_count)

    def test_deleted_source_image(self):
        self.conn.image.get_image.side_effect = sdk_exc.NotFoundException()
        facts = servers.describe(self.conn, 'web')
        self.assertFalse(facts['guest_agent'])
        self.assertFalse(facts['require_quiesce'])

    def test_unknown_server(self):
        self.conn.compute.find_server.return_value = None
        self.conn.config = mock.NonCallableMock(spec=['name'])
        self.conn.config.name = 'east'
        exc = self.assertRaises(exceptions.ServerNotFound,
                                servers.describe, self.conn, 'nope')
        self.assertIn('nope', str(exc))
        self.assertIn('east', str(exc))
        self.conn.compute.volume_attachments.assert_not_called()

    def test_cloud_error_in_a_parallel_lookup_is_raised(self):
        self.conn.image.get_image.side_effect = sdk_exc.HttpException(
            'glance down')
        self.assertRaises(sdk_exc.HttpException,
                          servers.describe, self.conn, 'web')


class TestCheckStable(testtools.TestCase):

    def _facts(self, **changes):
        facts = {'id': SERVER_ID, 'status': 'ACTIVE', 'task_state': None,
                 'volume_statuses': {'vol-a': 'in-use'}}
        facts.update(changes)
        return facts

    def test_stable(self):
        servers.check_stable(self._facts(), 'snapshot')

    def test_server_task_running(self):
        exc = self.assertRaises(exceptions.InvalidServerState,
                                servers.check_stable,
                                self._facts(task_state='image_uploading'),
                                'snapshot')
        self.assertIn('ACTIVE/image_uploading', str(exc))

    def test_volume_changing(self):
        exc = self.assertRaises(
            exceptions.InvalidServerState, servers.check_stable,
            self._facts(volume_statuses={'vol-a': 'in-use',
                                         'vol-b': 'detaching'}),
            'back up')
        self.assertIn('volume vol-b detaching', str(exc))
        self.assertNotIn('vol-a', str(exc))
