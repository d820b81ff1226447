from openstack import exceptions as sdk_exc
import testtools

from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.flows import rollback
from backup_flows.flows import snapshot

from tests import flowutils
from tests.unit.flows import runs

VOLUMES = [{'volume_id': 'v1', 'device': '/dev/vdb'},
           {'volume_id': 'v2', 'device': '/dev/vdc'}]


class SnapshotFlowTestCase(testtools.TestCase):

    def test_pause_flow_shape(self):
        flow = snapshot.get_flow({'kind': 'image'}, VOLUMES, 'pause')
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual(
            ['check-server', 'pause-server',
             'create-root-image', 'create-volume-snapshot-v1',
             'create-volume-snapshot-v2',
             'wait-root-captured', 'wait-volume-snapshot-v1',
             'wait-volume-snapshot-v2',
             'unpause-server', 'wait-root-image-active',
             'record-snapshot-set'], names)

    def test_requires_only_plain_store_keys(self):
        flow = snapshot.get_flow({'kind': 'image'}, VOLUMES, 'stop')
        self.assertEqual({'cloud', 'server_id', 'set_meta'},
                         set(flow.requires))
        provided = set()
        for atom in flowutils.atoms(flow):
            provided.update(atom.provides)
        self.assertIn('root_image_id', provided)
        self.assertIn('volume_snapshot_v1', provided)
        self.assertIn('result', provided)

    def test_boot_from_volume_root_is_a_volume_snapshot(self):
        flow = snapshot.get_flow(
            {'kind': 'volume', 'volume_id': 'root', 'device': '/dev/vda'},
            [], 'none')
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual(['check-server', 'create-volume-snapshot-root',
                          'wait-volume-snapshot-root',
                          'record-snapshot-set'], names)
        create = next(a for a in flowutils.atoms(flow)
                      if a.name == 'create-volume-snapshot-root')
        self.assertEqual('root-volume', create.inject['volume']['role'])

    def test_atom_names_are_unique(self):
        flow = snapshot.get_flow({'kind': 'image'}, VOLUMES, 'pause')
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual(len(names), len(set(names)))

    def test_delete_flow_marks_the_set_first(self):
        flow = snapshot.get_delete_flow(['i1'], ['s1', 's2'])
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual('mark-set-deleting', names[0])
        self.assertEqual({'delete-image-i1', 'delete-volume-snapshot-s1',
                          'delete-volume-snapshot-s2'}, set(names[1:]))
        self.assertEqual({'cloud', 'set_id'}, set(flow.requires))


class RollbackFlowTestCase(testtools.TestCase):

    def test_shape(self):
        flow = rollback.get_flow('img', [{'volume_id': 'v1',
                                          'snapshot_id': 's1',
                                          'device': '/dev/vdb'}])
        self.assertEqual(
            ['check-server', 'stop-server', 'detach-volume-v1',
             'revert-volume-v1', 'attach-volume-v1', 'rebuild-server',
             'start-server'], [a.name for a in flowutils.atoms(flow)])
        self.assertEqual({'cloud', 'server_id'}, set(flow.requires))

    def test_without_root_image(self):
        flow = rollback.get_flow(None, [])
        self.assertEqual(['check-server', 'stop-server', 'start-server'],
                         [a.name for a in flowutils.atoms(flow)])


SET_META = {'set_id': 'set-1', 'job_id': runs.JOB, 'name': 'web-1-now',
            'image_name': 'web-1-now', 'server_id': 'srv',
            'consistency': 'crash-consistent-set',
            'requested_consistency': 'crash-consistent-set',
            'created_at': '2026-01-01T00:00:00+00:00', 'expires_at': None,
            'members': 2}
CAPTURE_ROOT = ['check-server', 'pause-server', 'create-root-image',
                'create-volume-snapshot-v1', 'wait-root-captured',
                'unpause-server', 'wait-root-image-active',
                'record-snapshot-set']
CAPTURE_V1 = CAPTURE_ROOT[:4] + ['wait-volume-snapshot-v1'] + \
    CAPTURE_ROOT[5:]


class SnapshotFlowRunTestCase(runs.FlowRunTestCase):
    """snapshot-create of a running server with one volume, paused."""

    def setUp(self):
        super().setUp()
        self.cloud.add_server('srv', root=b'root disk')
        self.cloud.add_volume('v1', b'data disk', server_id='srv')
        self.flow = snapshot.get_flow({'kind': 'image'}, VOLUMES[:1],
                                      'pause', planned_status='ACTIVE')
        self.store = {'cloud': 'c', 'server_id': 'srv', 'set_meta': SET_META}

    def test_runs_and_records_the_set(self):
        run = self.run_flow(self.flow, self.store)
        self.assertOrder(run.executed, CAPTURE_ROOT, CAPTURE_V1)
        self.conn.compute.pause_server.assert_called_once_with('srv')
        self.conn.compute.unpause_server.assert_called_once_with('srv')
        result = run.engine.storage.fetch('result')
        self.assertEqual(('set-1', 'available'),
                         (result['id'], result['status']))
        self.assertEqual([self.cloud.data['v1']],
                         [self.cloud.data[s] for s in self.cloud.snapshots])
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])
        self.assertPlainStore(run, self.flow)

    def test_a_failed_record_reverts_every_capture(self):
        self.cloud.fail('block_storage.set_snapshot_metadata')
        run = self.run_flow(self.flow, self.store,
                            fails=sdk_exc.HttpException)
        self.assertEqual(['record-snapshot-set'], run.failed)
        self.assertOrder(run.executed + run.failed, CAPTURE_ROOT, CAPTURE_V1)
        self.assertRevertedNewestFirst(run, CAPTURE_ROOT, CAPTURE_V1)
        # nothing left behind, the server running as before
        self.assertEqual({'servers': ['srv'], 'images': [], 'volumes': ['v1'],
                          'snapshots': []}, self.cloud.created())
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])

    def test_a_failed_pause_undoes_nothing(self):
        self.cloud.fail('compute.pause_server')
        run = self.run_flow(self.flow, self.store,
                            fails=sdk_exc.HttpException)
        self.assertEqual(['check-server'], run.executed)
        self.assertEqual(['pause-server', 'check-server'], run.reverted)
        self.conn.compute.unpause_server.assert_not_called()


class SnapshotDeleteFlowRunTestCase(runs.FlowRunTestCase):

    def setUp(self):
        super().setUp()
        root = sets.member_metadata(SET_META, tags.ROLE_ROOT_IMAGE,
                                    status=tags.STATUS_AVAILABLE)
        self.cloud.add_image('i1', b'root', properties=root)
        self.cloud.add_volume('v1', b'data')
        self.cloud.add_snapshot('s1', 'v1', metadata=sets.member_metadata(
            SET_META, tags.ROLE_VOLUME, volume_id='v1',
            status=tags.STATUS_AVAILABLE))
        self.flow = snapshot.get_delete_flow(['i1'], ['s1'])
        self.store = {'cloud': 'c', 'set_id': 'set-1'}
        self.chains = (['mark-set-deleting', 'delete-image-i1'],
                       ['mark-set-deleting', 'delete-volume-snapshot-s1'])

    def test_deletes_every_member(self):
        run = self.run_flow(self.flow, self.store)
        self.assertOrder(run.executed, *self.chains)
        self.assertEqual([], self.cloud.created()['images'])
        self.assertEqual([], self.cloud.created()['snapshots'])
        self.assertPlainStore(run, self.flow)

    def test_a_failed_delete_marks_the_rest_available_again(self):
        self.cloud.fail('block_storage.delete_snapshot')
        run = self.run_flow(self.flow, self.store,
                            fails=sdk_exc.HttpException)
        self.assertEqual(['delete-volume-snapshot-s1'], run.failed)
        self.assertRevertedNewestFirst(run, *self.chains)
        self.assertEqual(tags.STATUS_AVAILABLE, self.cloud.snapshots['s1'][
            'metadata'][tags.STATUS])
