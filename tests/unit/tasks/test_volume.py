"""Volume tasks of the rollback: re-imaging a volume in place."""

from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as sdk_volume
import requests

from backup_flows import exceptions
from backup_flows.tasks import volume as volume_tasks

from tests.unit import fake_sdk
from tests.unit.tasks import taskcase


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


SET_META = {'set_id': 'set-1', 'job_id': taskcase.JOB, 'image_name': 'web-1'}
VOLUME = {'volume_id': 'v1', 'device': '/dev/vdb', 'role': 'volume'}


class CreateVolumeSnapshotTestCase(taskcase.TaskTestCase):

    def setUp(self):
        super().setUp()
        self.cloud.add_volume('v1', b'data', server_id='srv')
        self.task = volume_tasks.CreateVolumeSnapshot(name='create-snap')

    def test_creates_a_snapshot_carrying_the_set(self):
        snap_id = self.task.execute('c', SET_META, VOLUME)
        call = self.conn.block_storage.create_snapshot.call_args.kwargs
        self.assertEqual(('v1', 'web-1-v1', True),
                         (call['volume_id'], call['name'], call['force']))
        self.assertEqual(('set-1', '/dev/vdb'), (
            call['metadata']['backup_flows_set_id'],
            call['metadata']['backup_flows_device']))
        # run again after a crash: adopted, not taken twice
        self.assertEqual(snap_id, self.task.execute('c', SET_META, VOLUME))
        self.assertEqual(1, self.conn.block_storage.create_snapshot
                         .call_count)

    def test_revert_deletes_the_snapshots_of_the_job(self):
        snap_id = self.task.execute('c', SET_META, VOLUME)
        self.assertIsNone(self.task.revert(snap_id, 'c', SET_META, VOLUME))
        self.conn.block_storage.delete_snapshot.assert_called_once_with(
            snap_id, ignore_missing=True)
        self.assertEqual({}, self.cloud.snapshots)

    def test_revert_without_a_snapshot_deletes_nothing(self):
        self.task.revert(taskcase.a_failure(), 'c', SET_META, VOLUME)
        self.assertNoChange('block_storage.delete_snapshot')

    def test_revert_swallows_its_errors(self):
        self.task.execute('c', SET_META, VOLUME)
        self.assertRevertSwallows(self.task, 'block_storage.delete_snapshot',
                                  None, 'c', SET_META, VOLUME)


class SnapshotAndVolumeWaitsTestCase(taskcase.TaskTestCase):

    def test_waits_and_deletes(self):
        self.cloud.add_volume('v1')
        self.cloud.add_snapshot('s1', 'v1')
        volume_tasks.WaitForVolumeSnapshotAvailable(name='w').execute(
            'c', 's1')
        volume_tasks.WaitForVolumeAvailable(name='w').execute('c', 'v1')
        volume_tasks.DeleteVolumeSnapshot(name='d').execute('c', 's1')
        volume_tasks.DeleteVolume(name='d').execute('c', 'v1')
        self.conn.block_storage.delete_snapshot.assert_called_once_with(
            's1', ignore_missing=True)
        self.conn.block_storage.delete_volume.assert_called_once_with(
            'v1', ignore_missing=True, force=False)
        self.assertEqual([], self.cloud.created()['volumes'])
        # already gone: nothing to do
        volume_tasks.DeleteVolumeSnapshot(name='d').execute('c', 's1')
        volume_tasks.DeleteVolume(name='d').execute('c', 'v1')
        self.assertEqual(1, self.conn.block_storage.delete_volume.call_count)

    def test_a_snapshot_in_error_fails_the_wait(self):
        self.cloud.add_snapshot('s1', 'v1', status='error')
        self.cloud.snapshots['s1']['status'] = 'error'
        self.assertRaises(exceptions.ResourceFailed,
                          volume_tasks.WaitForVolumeSnapshotAvailable(
                              name='w').execute, 'c', 's1')


class AttachmentTestCase(taskcase.TaskTestCase):
    """Detach, revert to the snapshot, attach (the rollback's steps)."""

    def setUp(self):
        super().setUp()
        self.cloud.add_volume('v1', b'now', server_id='srv')
        self.cloud.add_snapshot('s1', 'v1')
        self.cloud.data['s1'] = b'then'
        self.volume = dict(VOLUME, snapshot_id='s1')

    def test_detach_revert_attach(self):
        volume_tasks.DetachVolume(name='detach').execute('c', 'srv',
                                                         self.volume)
        self.conn.compute.delete_volume_attachment.assert_called_once_with(
            'srv', 'v1')
        volume_tasks.RevertVolumeToSnapshot(name='revert').execute(
            'c', self.volume)
        self.conn.block_storage.revert_volume_to_snapshot \
            .assert_called_once_with('v1', 's1')
        self.assertEqual(b'then', self.cloud.data['v1'])
        volume_tasks.AttachVolume(name='attach').execute('c', 'srv',
                                                         self.volume)
        self.conn.compute.create_volume_attachment.assert_called_once_with(
            'srv', volume='v1', device='/dev/vdb')
        self.assertEqual('in-use', self.cloud.volumes['v1']['status'])

    def test_detach_revert_attaches_again(self):
        task = volume_tasks.DetachVolume(name='detach')
        task.execute('c', 'srv', self.volume)
        self.assertIsNone(task.revert(None, 'c', 'srv', self.volume))
        self.conn.compute.create_volume_attachment.assert_called_once_with(
            'srv', volume='v1', device='/dev/vdb')

    def test_detach_revert_of_a_volume_still_attached_does_nothing(self):
        volume_tasks.DetachVolume(name='detach').revert(
            taskcase.a_failure(), 'c', 'srv', self.volume)
        self.assertNoChange('compute.create_volume_attachment')

    def test_detach_revert_swallows_its_errors(self):
        self.assertRevertSwallows(volume_tasks.DetachVolume(name='detach'),
                                  'compute.create_volume_attachment', None,
                                  'c', 'other-server', self.volume)


class CreateVolumeTestCase(taskcase.TaskTestCase):

    SPEC = {'role': 'export-volume-vdb', 'name': 'export-vdb', 'size_gb': 2,
            'volume_type': 'fast'}

    def setUp(self):
        super().setUp()
        self.cloud.add_volume('v1', b'bytes')
        self.cloud.add_snapshot('s1', 'v1')
        self.task = volume_tasks.CreateVolume(name='create-volume')

    def test_from_a_snapshot_tagged_with_the_job(self):
        volume_id = self.task.execute('c', taskcase.JOB, self.SPEC,
                                      snapshot_id='s1')
        self.conn.block_storage.create_volume.assert_called_once_with(
            name='export-vdb', size=2, snapshot_id='s1', volume_type='fast',
            metadata={'backup_flows_job_id': taskcase.JOB,
                      'backup_flows_role': 'export-volume-vdb'})
        self.assertEqual(b'bytes', self.cloud.data[volume_id])
        self.assertEqual(volume_id, self.task.execute(
            'c', taskcase.JOB, self.SPEC, snapshot_id='s1'))
        self.assertEqual(1, self.conn.block_storage.create_volume.call_count)

    def test_revert_deletes_the_volumes_of_the_job_and_role(self):
        volume_id = self.task.execute('c', taskcase.JOB, self.SPEC)
        self.task.revert(taskcase.a_failure(), 'c', taskcase.JOB, self.SPEC)
        self.conn.block_storage.delete_volume.assert_called_once_with(
            volume_id, ignore_missing=True, force=False)
        self.assertEqual(['v1'], self.cloud.created()['volumes'])

    def test_revert_without_a_volume_deletes_nothing(self):
        self.task.revert(None, 'c', taskcase.JOB, self.SPEC)
        self.assertNoChange('block_storage.delete_volume')

    def test_revert_swallows_its_errors(self):
        self.task.execute('c', taskcase.JOB, self.SPEC)
        self.assertRevertSwallows(self.task, 'block_storage.delete_volume',
                                  None, 'c', taskcase.JOB, self.SPEC)
