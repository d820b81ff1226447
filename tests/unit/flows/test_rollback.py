"""The rollback flow: its shape, with and without a safety set, and the
order in which it runs and reverts."""

import fixtures
from openstack import exceptions as sdk_exc
from taskflow import engines
from taskflow.listeners import capturing
import testtools

from backup_flows import faults
from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.flows import rollback

from tests import flowutils
from tests.unit.flows import runs

REVERTED = {'volume_id': 'v1', 'device': '/dev/vdb', 'snapshot_id': 's1'}
REIMAGED = {'volume_id': 'v2', 'device': '/dev/vdc', 'image_id': 'i2',
            'bootable': False, 'image_metadata': {}}
SAFETY = {'set_id': 'safe', 'volumes': [{'volume_id': 'v1',
                                         'snapshot_id': 'safe-s1',
                                         'size_gb': 1}]}
SAFETY_ATOMS = ['create-safety-volume-v1', 'wait-safety-volume-v1',
                'upload-safety-volume-v1', 'wait-safety-image-v1',
                'record-safety-image-v1', 'delete-safety-volume-v1',
                'delete-safety-snapshot-v1']


def names(flow):
    return [atom.name for atom in flowutils.atoms(flow)]


class RollbackFlowTestCase(testtools.TestCase):

    def test_safety_images_are_made_before_the_server_stops(self):
        flow = rollback.get_flow('img', [REVERTED], SAFETY)
        self.assertEqual(
            ['check-server'] + SAFETY_ATOMS +
            ['stop-server', 'detach-volume-v1', 'revert-volume-v1',
             'attach-volume-v1', 'rebuild-server', 'start-server'],
            names(flow))
        self.assertEqual({'cloud', 'server_id', 'job_id'},
                         set(flow.requires))

    def test_the_safety_image_is_recorded_in_the_safety_set(self):
        atoms = {a.name: a for a in flowutils.atoms(
            rollback.get_flow(None, [REVERTED], SAFETY))}
        self.assertEqual(
            {'role': 'safety-image-v1', 'set_id': 'safe'},
            atoms['upload-safety-volume-v1'].inject['spec'])
        self.assertEqual('safe-s1', atoms['create-safety-volume-v1']
                         .inject['snapshot_id'])
        record = atoms['record-safety-image-v1']
        self.assertEqual({'snapshot_id': 'safe-s1'}, record.inject)
        self.assertEqual('safety_image_v1', record.rebind['image_id'])
        self.assertEqual('safe-s1', atoms['delete-safety-snapshot-v1']
                         .inject['snapshot_id'])

    def test_a_volume_held_as_an_image_is_reimaged(self):
        flow = rollback.get_flow('img', [REIMAGED])
        self.assertEqual(
            ['check-server', 'stop-server', 'detach-volume-v2',
             'reimage-volume-v2', 'attach-volume-v2', 'rebuild-server',
             'start-server'], names(flow))
        self.assertEqual({'cloud', 'server_id'}, set(flow.requires))

    def test_without_a_safety_set_or_volumes_to_revert(self):
        self.assertEqual(names(rollback.get_flow('img', [REVERTED])),
                         names(rollback.get_flow(
                             'img', [REVERTED],
                             {'set_id': 'safe', 'volumes': []})))

    def test_irreversible_atoms(self):
        self.assertEqual(['revert-volume-v1', 'reimage-volume-v2',
                          'rebuild-server'],
                         rollback.irreversible_atoms('img',
                                                     [REVERTED, REIMAGED]))
        self.assertEqual(['revert-volume-v1'],
                         rollback.irreversible_atoms(None, [REVERTED]))
        flow = rollback.get_flow('img', [REVERTED, REIMAGED])
        for name in rollback.irreversible_atoms('img', [REVERTED, REIMAGED]):
            self.assertIn(name, names(flow))
        # job abort finishes a rollback interrupted after one of them
        self.assertEqual(
            rollback.irreversible_atoms('img', [REVERTED, REIMAGED]),
            [a.name for a in flowutils.atoms(flow) if a.point_of_no_return])


def _fake_tasks(flow, fail_before):
    """Fixtures patching every task class of ``flow``: execute returns an
    id (and fails at the ``fail_before`` atom), revert does nothing."""
    def execute(self, **kwargs):
        if self.name == fail_before:
            raise faults.InjectedFailure('injected before %s' % self.name)
        return 'id-%s' % self.name

    def revert(self, result, **kwargs):
        return None

    for cls in {type(atom) for atom in flowutils.atoms(flow)}:
        yield fixtures.MockPatchObject(cls, 'execute', execute)
        yield fixtures.MockPatchObject(cls, 'revert', revert)


class RollbackFlowRunTestCase(testtools.TestCase):

    def run_failing(self, flow, fail_before):
        for fixture in _fake_tasks(flow, fail_before):
            self.useFixture(fixture)
        engine = engines.load(flow, store={'cloud': 'c', 'server_id': 's',
                                           'job_id': 'j'})
        with capturing.CaptureListener(engine, capture_flow=False) as cap:
            self.assertRaises(faults.InjectedFailure, engine.run)
        # (kind, state, details) tuples
        return [(details['task_name'], state)
                for _, state, details in cap.values]

    def test_a_failure_after_the_revert_reverts_back_to_the_start(self):
        flow = rollback.get_flow('img', [REVERTED], SAFETY)
        values = self.run_failing(flow, 'rebuild-server')
        executed = [name for name, state in values if state == 'SUCCESS']
        reverted = [name for name, state in values if state == 'REVERTED']
        self.assertEqual(['check-server'] + SAFETY_ATOMS +
                         ['stop-server', 'detach-volume-v1',
                          'revert-volume-v1', 'attach-volume-v1'], executed)
        self.assertEqual(['rebuild-server'] + executed[::-1], reverted)


ROLLBACK = (['check-server'] + SAFETY_ATOMS +
            ['stop-server', 'detach-volume-v1', 'revert-volume-v1',
             'attach-volume-v1', 'detach-volume-v2', 'reimage-volume-v2',
             'attach-volume-v2', 'rebuild-server', 'start-server'])


class RollbackFlowCloudRunTestCase(runs.FlowRunTestCase):
    """The real tasks against the fake cloud: a safety image, a volume
    reverted, one re-imaged, the root rebuilt."""

    def setUp(self):
        super().setUp()
        cloud = self.cloud
        cloud.add_server('srv', root=b'root now')
        cloud.add_volume('v1', b'v1 now', server_id='srv')
        cloud.add_volume('v2', b'v2 now', server_id='srv')
        cloud.add_snapshot('s1', 'v1')
        cloud.data['s1'] = b'v1 then'
        safety_meta = {'set_id': 'safe', 'job_id': runs.JOB, 'members': 3}
        cloud.add_snapshot('safe-s1', 'v1', metadata=sets.member_metadata(
            safety_meta, tags.ROLE_VOLUME, volume_id='v1'))
        cloud.add_image('i2', b'v2 then')
        cloud.add_image('img', b'root then')
        self.flow = rollback.get_flow('img', [REVERTED, REIMAGED], SAFETY)
        self.store = {'cloud': 'c', 'server_id': 'srv', 'job_id': runs.JOB}

    def test_returns_every_disk_to_the_set(self):
        run = self.run_flow(self.flow, self.store)
        self.assertOrder(run.executed, ROLLBACK)
        self.assertEqual((b'root then', b'v1 then', b'v2 then'),
                         tuple(self.cloud.data[i] for i in ('srv', 'v1',
                                                            'v2')))
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])
        # the safety snapshot became an image of the safety set
        self.assertNotIn('safe-s1', self.cloud.snapshots)
        safety = [i for i in self.cloud.images.values() if i.get(
            'properties', {}).get(tags.SET_ID) == 'safe']
        self.assertEqual([b'v1 now'], [self.cloud.data[i['id']]
                                       for i in safety])
        self.assertEqual(['v1', 'v2'], self.cloud.created()['volumes'])
        self.assertPlainStore(run, self.flow)

    def test_a_failed_rebuild_reattaches_and_starts_the_server(self):
        self.cloud.fail('compute.rebuild_server')
        run = self.run_flow(self.flow, self.store,
                            fails=sdk_exc.HttpException)
        self.assertEqual(ROLLBACK[:-2], run.executed)
        self.assertRevertedNewestFirst(run, ROLLBACK)
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])
        self.assertEqual(['in-use', 'in-use'], [
            self.cloud.volumes[v]['status'] for v in ('v1', 'v2')])
        self.assertEqual(['v1', 'v2'], self.cloud.created()['volumes'])
