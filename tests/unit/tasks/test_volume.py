"""Volume tasks of the rollback: re-imaging a volume in place."""

from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as sdk_volume
import requests

from backup_flows import exceptions
from backup_flows.tasks import volume as volume_tasks

from tests.unit import fake_sdk


def response(status_code):
    resp = mock.create_autospec(requests.Response, instance=True)
    resp.status_code = status_code
    resp.headers = {}
    resp.reason = 'Bad Request' if status_code >= 400 else 'Accepted'
    resp.url = 'http://cinder/v3/volumes/v1/action'
    resp.json.return_value = {}
    return resp


class ReimageVolumeTestCase(fake_sdk.ConnectedTestCase):

    VOLUME = {'volume_id': 'v1', 'device': '/dev/vdb', 'image_id': 'i1',
              'bootable': False, 'image_metadata': {'owner_note': 'kept'}}

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch('time.sleep'))
        # Cinder copied the image's properties, the set's keys among them.
        after = sdk_volume.Volume(
            id='v1', status='available', bootable='true',
            volume_image_metadata={'owner_note': 'replaced',
                                   'image_id': 'i1',
                                   'backup_flows_set_id': 'safe'})
        self.conn.block_storage.get_volume.side_effect = [
            sdk_volume.Volume(id='v1', status='available'),
            sdk_volume.Volume(id='v1', status='downloading'),
            after]
        self.conn.block_storage.post.return_value = response(202)

    def test_reimages_in_place_and_puts_the_metadata_back(self):
        task = volume_tasks.ReimageVolume(name='reimage-volume-v1')
        task.execute('cloud', self.VOLUME)
        self.conn.block_storage.post.assert_called_once_with(
            '/volumes/v1/action',
            json={'os-reimage': {'image_id': 'i1',
                                 'reimage_reserved': False}},
            microversion='3.68')
        bs = self.conn.block_storage
        bs.delete_volume_image_metadata.assert_called_once_with(
            'v1', keys=['backup_flows_set_id', 'image_id'])
        bs.set_volume_image_metadata.assert_called_once_with(
            'v1', owner_note='kept')
        bs.set_volume_bootable_status.assert_called_once_with('v1', False)

    def test_a_refused_reimage_fails_the_task(self):
        self.conn.block_storage.post.return_value = response(400)
        task = volume_tasks.ReimageVolume(name='reimage-volume-v1')
        self.assertRaises(sdk_exc.HttpException, task.execute, 'cloud',
                          self.VOLUME)
        self.conn.block_storage.set_volume_bootable_status.assert_not_called()

    def test_run_again_while_cinder_reimages_only_waits(self):
        bs = self.conn.block_storage
        bs.get_volume.side_effect = [
            sdk_volume.Volume(id='v1', status='downloading'),
            sdk_volume.Volume(id='v1', status='available', bootable='false',
                              volume_image_metadata={'owner_note': 'kept'})]
        volume_tasks.ReimageVolume(name='reimage-volume-v1').execute(
            'cloud', self.VOLUME)
        bs.post.assert_not_called()
        bs.delete_volume_image_metadata.assert_not_called()
        bs.set_volume_bootable_status.assert_not_called()

    def test_a_volume_gone_to_error_fails_the_task(self):
        self.conn.block_storage.get_volume.side_effect = [
            sdk_volume.Volume(id='v1', status='available'),
            sdk_volume.Volume(id='v1', status='error')]
        task = volume_tasks.ReimageVolume(name='reimage-volume-v1')
        self.assertRaises(exceptions.ResourceFailed, task.execute, 'cloud',
                          self.VOLUME)
