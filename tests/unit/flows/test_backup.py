import testtools

from backup_flows.flows import backup

from tests import flowutils

VOLUME = {'volume_id': 'v1', 'device': '/dev/vdb'}
DISKS = [{'disk': 'vda', 'role': 'root-image', 'exporter': 'image'},
         {'disk': 'vdb', 'role': 'volume', 'exporter': 'volume-image',
          'volume_id': 'v1', 'size_gb': 1}]


class BackupFlowTestCase(testtools.TestCase):

    def flow(self):
        return backup.get_flow({'kind': 'image'}, [VOLUME], 'pause', DISKS)

    def test_shape(self):
        names = [a.name for a in flowutils.atoms(self.flow())]
        self.assertEqual(
            ['check-server', 'pause-server',
             'create-root-image', 'create-volume-snapshot-v1',
             'wait-root-captured', 'wait-volume-snapshot-v1',
             'unpause-server', 'wait-root-image-active',
             'record-snapshot-set', 'hold-repository-lock',
             'wait-export-image-vda', 'write-disk-vda',
             'create-export-volume-vdb', 'wait-export-volume-vdb',
             'upload-export-volume-vdb', 'wait-export-image-vdb',
             'write-disk-vdb',
             'delete-export-image-vdb', 'delete-export-volume-vdb',
             'commit-backup', 'verify-backup', 'mark-set-deleting',
             'delete-root-image', 'delete-volume-snapshot-v1'],
            names)
        self.assertEqual(len(names), len(set(names)))

    def test_requires_only_plain_store_keys(self):
        self.assertEqual({'cloud', 'server_id', 'set_meta', 'set_id',
                          'job_id', 'repository_url', 'backup_id',
                          'backup_meta'},
                         set(self.flow().requires))

    def test_after_the_commit_only_best_effort_tasks(self):
        atoms = [a.name for a in flowutils.atoms(self.flow())]
        after = atoms[atoms.index('verify-backup') + 1:]
        by_name = {a.name: a for a in flowutils.atoms(self.flow())}
        self.assertTrue(by_name['verify-backup'].point_of_no_return)
        self.assertEqual(['verify-backup'],
                         [name for name in atoms
                          if by_name[name].point_of_no_return])
        for name in after:
            self.assertTrue(by_name[name].best_effort, name)
        self.assertEqual('root_image_id',
                         by_name['delete-root-image'].rebind['image_id'])
        self.assertEqual(
            'volume_snapshot_v1',
            by_name['delete-volume-snapshot-v1'].rebind['snapshot_id'])

    def test_boot_volume_snapshot_is_deleted_too(self):
        flow = backup.get_flow({'kind': 'volume', 'volume_id': 'r1',
                                'device': '/dev/vda'}, [VOLUME], 'pause',
                               [dict(DISKS[1], disk='vda', volume_id='r1'),
                                DISKS[1]])
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertNotIn('delete-root-image', names)
        self.assertIn('delete-volume-snapshot-r1', names)
        self.assertIn('delete-volume-snapshot-v1', names)

    def test_planned_status_is_checked_first(self):
        flow = backup.get_flow({'kind': 'image'}, [], 'none', DISKS[:1],
                               planned_status='PAUSED')
        check = next(iter(flowutils.atoms(flow)))
        self.assertEqual('check-server', check.name)
        self.assertEqual({'planned_status': 'PAUSED'}, check.inject)

    def test_commit_waits_for_every_disk(self):
        commit = next(a for a in flowutils.atoms(self.flow())
                      if a.name == 'commit-backup')
        self.assertIn('written_vda', commit.requires)
        self.assertIn('written_vdb', commit.requires)
        self.assertEqual(['vda', 'vdb'], commit.inject['disk_order'])

    def test_export_volume_is_created_from_the_set_snapshot(self):
        create = next(a for a in flowutils.atoms(self.flow())
                      if a.name == 'create-export-volume-vdb')
        self.assertEqual('volume_snapshot_v1',
                         create.rebind['snapshot_id'])

    def test_unknown_exporter_is_a_clear_error(self):
        from backup_flows import exceptions
        disks = [dict(DISKS[0], exporter='tape')]
        exc = self.assertRaises(exceptions.PluginError, backup.get_flow,
                                {'kind': 'image'}, [], 'none', disks)
        self.assertIn('tape', str(exc))
