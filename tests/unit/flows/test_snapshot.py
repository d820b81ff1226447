import testtools

from backup_flows.flows import rollback
from backup_flows.flows import snapshot

from tests import flowutils

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
