"""The rollback operation: checks first, the safety set, and what a failed
rollback says it changed."""


import fixtures
from openstack.block_storage.v3 import snapshot as sdk_snapshot
from openstack.block_storage.v3 import volume as sdk_volume
from openstack.image.v2 import image as sdk_image
from taskflow import states
from taskflow.persistence import models
from taskflow.types import failure
import testtools

from backup_flows import conf
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import faults
from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.operations import rollbacks

from tests.unit import fake_sdk

SERVER = 'srv'
FACTS = {'id': SERVER, 'name': 'web', 'status': 'ACTIVE', 'task_state': None,
         'root': {'kind': 'image', 'image_id': 'base'},
         'volumes': [{'volume_id': 'v1', 'device': '/dev/vdb'}]}
SET_META = {'set_id': 'target', 'job_id': 'j0', 'name': 'before-upgrade',
            'server_id': SERVER, 'members': 2}
SAFETY_SET = {'id': 'safe', 'job_id': 'j1', 'server_id': SERVER,
              'volume_snapshots': [{'id': 'safe-s1', 'volume_id': 'v1',
                                    'device': '/dev/vdb', 'role': 'volume',
                                    'status': 'available'}]}
VOLUME_IMAGE = sdk_image.Image(id='img-v1', status='active')


def member(meta_role, volume_id=None):
    return sets.member_metadata(SET_META, meta_role, volume_id=volume_id,
                                device='/dev/vdb' if volume_id else None,
                                status=tags.STATUS_AVAILABLE)


def target_set(volume_as_image=False):
    snapshot_set = sets.SnapshotSet('target')
    snapshot_set.add_image(sdk_image.Image(id='root-img', status='active'),
                           member(tags.ROLE_ROOT_IMAGE))
    if volume_as_image:
        snapshot_set.add_image(VOLUME_IMAGE, member(tags.ROLE_VOLUME, 'v1'))
    else:
        snapshot_set.add_snapshot(
            sdk_snapshot.Snapshot(id='s1', status='available'),
            member(tags.ROLE_VOLUME, 'v1'))
    return snapshot_set


def atom(name, state, error=None):
    detail = models.TaskDetail(name, uuid=name)
    detail.state = state
    if error is not None:
        detail.failure = failure.Failure.from_exception(error)
    return detail


def job(*atoms, error='boom'):
    flow_detail = models.FlowDetail('snapshot-rollback', uuid='job')
    flow_detail.meta.update({'flow': 'snapshot-rollback', 'error': error})
    for detail in atoms:
        flow_detail.add(detail)
    return engine.Job.from_detail(flow_detail)


class RollbackTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf.CONF([], project='backup-flows', default_config_files=[])
        self.conn = fake_sdk.connection()
        self.conn.block_storage.snapshots.return_value = [
            sdk_snapshot.Snapshot(id='s1', volume_id='v1',
                                  created_at='2026-01-01T00:00:00')]
        self.conn.block_storage.get_volume.return_value = sdk_volume.Volume(
            id='v1', size=1, bootable='false', volume_image_metadata=None)
        self.check_cloud = self.patch('backup_flows.clients.check_cloud',
                                      return_value=self.conn)
        self.patch('backup_flows.clients.cloud_name', return_value='c')
        self.get_set = self.patch('backup_flows.cloud.snapshot_sets.get_set',
                                  return_value=target_set())
        self.patch('backup_flows.cloud.snapshot_sets.member_images',
                   return_value=[])
        self.patch('backup_flows.cloud.servers.describe', return_value=FACTS)
        self.reimage = self.patch(
            'openstack.utils.supports_microversion', return_value=True)
        self.create = self.patch('backup_flows.operations.snapshots.create',
                                 return_value=SAFETY_SET)
        self.delete = self.patch('backup_flows.operations.snapshots.delete')
        self.run_flow = self.patch('backup_flows.engine.run_flow',
                                   return_value=('job', {}))
        self.get_job = self.patch('backup_flows.engine.get_job')

    def patch(self, target, **kwargs):
        return self.useFixture(fixtures.MockPatch(target, **kwargs)).mock

    def flow_args(self):
        return self.run_flow.call_args.args[1]

    def test_a_safety_set_is_taken_first_and_its_snapshots_made_images(self):
        result = rollbacks.rollback('target')
        self.create.assert_called_once_with(
            SERVER, name='safety-before-rollback-before-upgrade',
            quiesce='pause', ttl='1d', cloud=None)
        self.assertEqual('safe', result['safety_set_id'])
        self.assertEqual(
            {'image_id': 'root-img',
             'volumes': [{'volume_id': 'v1', 'device': '/dev/vdb',
                          'snapshot_id': 's1', 'size_gb': 1}],
             'safety': {'set_id': 'safe', 'volumes': [
                 {'volume_id': 'v1', 'snapshot_id': 'safe-s1',
                  'size_gb': 1}]}},
            self.flow_args())
        store = self.run_flow.call_args.args[2]
        self.assertEqual(self.run_flow.call_args.kwargs['job_id'],
                         store['job_id'])
        self.delete.assert_not_called()

    def test_no_safety_snapshot(self):
        result = rollbacks.rollback('target', safety=False)
        self.create.assert_not_called()
        self.assertIsNone(result['safety_set_id'])
        self.assertIsNone(self.flow_args()['safety'])

    def test_a_volume_held_as_an_image_is_reimaged_and_kept_a_snapshot(self):
        self.get_set.return_value = target_set(volume_as_image=True)
        props = member(tags.ROLE_VOLUME, 'v1')
        self.patch('backup_flows.cloud.snapshot_sets.member_images',
                   return_value=[(VOLUME_IMAGE, props)])
        rollbacks.rollback('target', safety_ttl='2h')
        self.assertEqual('2h', self.create.call_args.kwargs['ttl'])
        self.assertEqual([{'volume_id': 'v1', 'device': '/dev/vdb',
                           'image_id': 'img-v1', 'bootable': False,
                           'image_metadata': {}}],
                         self.flow_args()['volumes'])
        # Re-imaging needs no newest snapshot: the safety one stays.
        self.assertEqual({'set_id': 'safe', 'volumes': []},
                         self.flow_args()['safety'])

    def test_a_failed_safety_set_says_nothing_was_rolled_back(self):
        self.create.side_effect = exceptions.FlowFailed(
            flow='snapshot-create', job_id='j1', reason='glance is down')
        error = self.assertRaises(exceptions.SafetySetFailed,
                                  rollbacks.rollback, 'target')
        self.assertIn('safety set of server srv could not be taken, so '
                      'nothing was rolled back', str(error))
        self.assertIn('glance is down', str(error))
        self.run_flow.assert_not_called()

    def assertRefusedBeforeAnything(self, fragment, *args, **kwargs):
        error = self.assertRaises(exceptions.InvalidInput,
                                  rollbacks.rollback, *args, **kwargs)
        self.assertIn(fragment, str(error))
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)
        self.create.assert_not_called()
        self.run_flow.assert_not_called()
        return error

    def test_bad_safety_ttl(self):
        self.assertRefusedBeforeAnything('not a duration', 'target',
                                         safety_ttl='tomorrow')
        self.check_cloud.assert_not_called()

    def test_safety_ttl_without_safety(self):
        self.assertRefusedBeforeAnything('--no-safety-snapshot', 'target',
                                         safety=False, safety_ttl='1h')
        self.check_cloud.assert_not_called()

    def test_a_cloud_without_reimage(self):
        self.reimage.return_value = False
        self.assertRefusedBeforeAnything('--no-safety-snapshot', 'target')
        # Without a safety set nothing needs it.
        rollbacks.rollback('target', safety=False)
        self.run_flow.assert_called_once()

    def test_a_newer_snapshot_is_refused(self):
        self.conn.block_storage.snapshots.return_value.append(
            sdk_snapshot.Snapshot(id='s2', volume_id='v1',
                                  created_at='2026-02-01T00:00:00'))
        self.assertRefusedBeforeAnything('newer than this set', 'target')

    def fail_flow(self, *atoms, error=None):
        error = error or exceptions.FlowFailed(
            flow='snapshot-rollback', job_id='job', reason='boom')
        self.run_flow.side_effect = error
        self.get_job.return_value = job(*atoms)
        return error

    def test_a_failure_before_any_revert_deletes_the_safety_set(self):
        error = self.fail_flow(
            atom('stop-server', states.REVERTED,
                 RuntimeError('nova is down')),
            atom('revert-volume-v1', states.PENDING),
            atom('rebuild-server', states.PENDING))
        raised = self.assertRaises(exceptions.FlowFailed, rollbacks.rollback,
                                   'target')
        self.assertIs(error, raised)
        self.delete.assert_called_once_with('safe', cloud=None)

    def test_a_job_never_saved_changed_nothing(self):
        error = self.fail_flow()
        self.get_job.side_effect = exceptions.JobNotFound(job_id='job')
        raised = self.assertRaises(exceptions.FlowFailed, rollbacks.rollback,
                                   'target')
        self.assertIs(error, raised)
        self.delete.assert_called_once_with('safe', cloud=None)

    def test_an_injected_failure_before_the_revert_changed_nothing(self):
        self.fail_flow(
            atom('revert-volume-v1', states.REVERTED,
                 faults.InjectedFailure('failure injected')),
            atom('rebuild-server', states.PENDING))
        self.assertRaises(exceptions.FlowFailed, rollbacks.rollback,
                          'target')
        self.delete.assert_called_once_with('safe', cloud=None)

    def test_a_failure_after_the_volume_revert_names_it_and_the_way_back(self):
        self.fail_flow(atom('revert-volume-v1', states.REVERTED),
                       atom('attach-volume-v1', states.REVERTED),
                       atom('rebuild-server', states.REVERTED,
                            RuntimeError('boom')))
        error = self.assertRaises(exceptions.RollbackIncomplete,
                                  rollbacks.rollback, 'target')
        message = str(error)
        self.assertIn('volume v1 reverted to the set', message)
        self.assertIn('root disk may be partly rebuilt', message)
        self.assertIn('"backup-flows-manage snapshot rollback safe --yes '
                      '--no-safety-snapshot"', message)
        self.assertIn('boom', message)
        self.assertEqual(1, len(message.splitlines()))
        self.assertEqual(exceptions.EXIT_FAILED, error.exit_code)
        self.delete.assert_not_called()

    def test_without_safety_set_it_says_the_way_back_is_gone(self):
        self.fail_flow(atom('revert-volume-v1', states.REVERTED),
                       atom('rebuild-server', states.REVERTED),
                       atom('start-server', states.REVERTED,
                            RuntimeError('boom')))
        error = self.assertRaises(exceptions.RollbackIncompleteWithoutSafety,
                                  rollbacks.rollback, 'target', safety=False)
        self.assertIn('volume v1 reverted to the set, root disk rebuilt '
                      'from image root-img', str(error))
        self.assertIn('No safety set was taken', str(error))
        self.assertIn('snapshot rollback target --yes', str(error))

    def test_a_failed_revert_is_named_too(self):
        detail = atom('revert-volume-v1', states.REVERTED,
                      RuntimeError('cinder said no'))
        attach = atom('detach-volume-v1', states.REVERTED)
        attach.revert_results = {'backup_flows_revert_failed': 'x'}
        self.fail_flow(detail, attach, atom('rebuild-server', states.PENDING))
        error = self.assertRaises(exceptions.RollbackIncomplete,
                                  rollbacks.rollback, 'target')
        self.assertIn('volume v1 may be partly reverted', str(error))
        self.assertIn('root disk not rebuilt', str(error))
        self.assertIn('the revert of detach-volume-v1 failed', str(error))

    def test_an_interrupted_job_is_left_to_job_resume(self):
        self.run_flow.side_effect = exceptions.JobInterrupted(
            flow='snapshot-rollback', job_id='job')
        self.assertRaises(exceptions.JobInterrupted, rollbacks.rollback,
                          'target')
        self.delete.assert_not_called()
