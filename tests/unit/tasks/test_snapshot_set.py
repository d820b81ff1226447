"""Snapshot set tasks: an image standing in for a volume snapshot."""


import fixtures
from openstack.block_storage.v3 import snapshot as sdk_snapshot
import testtools

from backup_flows import conf
from backup_flows import exceptions
from backup_flows import snapshot_sets as sets
from backup_flows.tasks import snapshot_set as set_tasks

from tests.unit import fake_sdk


class RecordImageAsSetMemberTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf.CONF([], project='backup-flows', default_config_files=[])
        self.conn = fake_sdk.connection()
        self.useFixture(fixtures.MockPatch('backup_flows.clients.connect',
                                           return_value=self.conn))
        self.patched = self.useFixture(fixtures.MockPatch(
            'backup_flows.snapshot_sets.set_image_properties')).mock
        self.task = set_tasks.RecordImageAsSetMember(name='record')

    def test_the_image_takes_the_snapshots_set_metadata(self):
        meta = sets.member_metadata(
            {'set_id': 'safe', 'job_id': 'j', 'name': 'safety', 'members': 2},
            sets.ROLE_VOLUME, volume_id='v1', device='/dev/vdb',
            status=sets.STATUS_AVAILABLE)
        self.conn.block_storage.get_snapshot.return_value = (
            sdk_snapshot.Snapshot(id='s1', metadata=dict(meta, note='x')))
        self.task.execute('cloud', 'i1', 's1')
        self.patched.assert_called_once_with(self.conn, 'i1', **meta)
        self.assertEqual('safe', meta[sets.SET_ID])
        self.assertEqual('v1', meta[sets.VOLUME_ID])

    def test_a_snapshot_of_no_set_is_refused(self):
        self.conn.block_storage.get_snapshot.return_value = (
            sdk_snapshot.Snapshot(id='s1', metadata={}))
        self.assertRaises(exceptions.BackupFlowsError, self.task.execute,
                          'cloud', 'i1', 's1')
        self.patched.assert_not_called()
