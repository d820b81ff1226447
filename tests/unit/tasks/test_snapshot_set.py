"""Snapshot set tasks: an image standing in for a volume snapshot."""


import fixtures
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import snapshot as sdk_snapshot
from openstack.image.v2 import image as sdk_image

from backup_flows import exceptions
from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.tasks import snapshot_set as set_tasks

from tests.unit import fake_sdk
from tests.unit.tasks import taskcase


class RecordImageAsSetMemberTestCase(fake_sdk.ConnectedTestCase):

    def setUp(self):
        super().setUp()
        self.patched = self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.snapshot_sets.set_image_properties')).mock
        self.task = set_tasks.RecordImageAsSetMember(name='record')

    def test_the_image_takes_the_snapshots_set_metadata(self):
        meta = sets.member_metadata(
            {'set_id': 'safe', 'job_id': 'j', 'name': 'safety', 'members': 2},
            tags.ROLE_VOLUME, volume_id='v1', device='/dev/vdb',
            status=tags.STATUS_AVAILABLE)
        self.conn.block_storage.get_snapshot.return_value = (
            sdk_snapshot.Snapshot(id='s1', metadata=dict(meta, note='x')))
        self.task.execute('cloud', 'i1', 's1')
        self.patched.assert_called_once_with(self.conn, 'i1', **meta)
        self.assertEqual('safe', meta[tags.SET_ID])
        self.assertEqual('v1', meta[tags.VOLUME_ID])

    def test_a_snapshot_of_no_set_is_refused(self):
        self.conn.block_storage.get_snapshot.return_value = (
            sdk_snapshot.Snapshot(id='s1', metadata={}))
        self.assertRaises(exceptions.BackupFlowsError, self.task.execute,
                          'cloud', 'i1', 's1')
        self.patched.assert_not_called()


SET_META = {'set_id': 'set1', 'job_id': 'job1', 'name': 'web-1',
            'server_id': 'srv', 'consistency': 'crash', 'members': 3}


class RecordSnapshotSetTestCase(fake_sdk.ConnectedTestCase):

    def setUp(self):
        super().setUp()
        self.set_props = self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.snapshot_sets.set_image_properties')).mock
        root = sets.member_metadata(SET_META, tags.ROLE_ROOT_IMAGE)
        self.conn.image.images.return_value = [
            sdk_image.Image(id='img1', status='active', properties=root)]
        self.snaps = [
            sdk_snapshot.Snapshot(id='s%d' % n, status='available',
                                  metadata=sets.member_metadata(
                                      SET_META, tags.ROLE_VOLUME,
                                      volume_id='v%d' % n,
                                      device='/dev/vd%s' % 'bc'[n - 1]))
            for n in (1, 2)]
        self.conn.block_storage.snapshots.return_value = self.snaps
        self.task = set_tasks.RecordSnapshotSet(name='record')

    def test_every_member_marked_available_and_the_set_returned(self):
        result = self.task.execute('cloud', SET_META)

        self.set_props.assert_called_once_with(
            self.conn, 'img1', **{tags.STATUS: tags.STATUS_AVAILABLE})
        self.assertEqual(
            sorted(['s1', 's2']),
            sorted(c.args[0].id for c in self.conn.block_storage
                   .set_snapshot_metadata.call_args_list))
        for call in self.conn.block_storage.set_snapshot_metadata \
                .call_args_list:
            self.assertEqual({tags.STATUS: tags.STATUS_AVAILABLE},
                             call.kwargs)
        self.assertEqual('set1', result['id'])
        self.assertEqual(tags.STATUS_AVAILABLE, result['status'])
        self.assertEqual('img1', result['image_id'])
        self.assertEqual(['v1', 'v2'], sorted(
            s['volume_id'] for s in result['volume_snapshots']))
        # listed once, not again to build the result
        self.conn.image.images.assert_called_once()
        self.conn.block_storage.snapshots.assert_called_once()

    def test_a_missing_member_fails_before_anything_is_marked(self):
        self.conn.block_storage.snapshots.return_value = self.snaps[:1]
        exc = self.assertRaises(exceptions.BackupFlowsError,
                                self.task.execute, 'cloud', SET_META)
        self.assertIn('2 members, expected 3', str(exc))
        self.set_props.assert_not_called()
        self.conn.block_storage.set_snapshot_metadata.assert_not_called()

    def test_a_failed_mark_fails_the_task_after_every_member_was_tried(self):
        self.conn.block_storage.set_snapshot_metadata.side_effect = [
            sdk_exc.HttpException('cinder down'), None]
        self.assertRaises(sdk_exc.HttpException, self.task.execute,
                          'cloud', SET_META)
        self.set_props.assert_called_once()
        self.assertEqual(
            2, self.conn.block_storage.set_snapshot_metadata.call_count)


class MarkSnapshotSetDeletingTestCase(taskcase.TaskTestCase):

    def setUp(self):
        super().setUp()
        self.task = set_tasks.MarkSnapshotSetDeleting(name='mark-deleting')
        image = sets.member_metadata(SET_META, tags.ROLE_ROOT_IMAGE,
                                     status=tags.STATUS_AVAILABLE)
        self.cloud.add_image('img1', properties=image)
        self.cloud.add_volume('v1')
        self.cloud.add_snapshot('s1', 'v1', metadata=sets.member_metadata(
            SET_META, tags.ROLE_VOLUME, volume_id='v1',
            status=tags.STATUS_AVAILABLE))
        other = dict(SET_META, set_id='other-set')
        self.cloud.add_snapshot('s2', 'v1', metadata=sets.member_metadata(
            other, tags.ROLE_VOLUME, volume_id='v1',
            status=tags.STATUS_AVAILABLE))

    def statuses(self):
        return (self.cloud.images['img1']['properties'][tags.STATUS],
                self.cloud.snapshots['s1']['metadata'][tags.STATUS],
                self.cloud.snapshots['s2']['metadata'][tags.STATUS])

    def test_every_member_of_the_set_is_marked_then_unmarked(self):
        self.task.execute('cloud', 'set1')
        self.assertEqual(('deleting', 'deleting', 'available'),
                         self.statuses())
        self.task.revert(None, 'cloud', 'set1')
        self.assertEqual(('available', 'available', 'available'),
                         self.statuses())

    def test_a_member_that_cannot_be_marked_fails_the_task(self):
        self.cloud.fail('block_storage.set_snapshot_metadata')
        self.assertRaises(sdk_exc.HttpException, self.task.execute,
                          'cloud', 'set1')

    def test_the_revert_swallows_its_errors(self):
        self.task.execute('cloud', 'set1')
        self.assertRevertSwallows(self.task,
                                  'block_storage.set_snapshot_metadata',
                                  None, 'cloud', 'set1')
