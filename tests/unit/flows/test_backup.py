import json
import os

import fixtures
from openstack import exceptions as sdk_exc
import testtools

from backup_flows import conf
from backup_flows import repository
from backup_flows.flows import backup

from tests import flowutils
from tests.unit.flows import runs

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


SET_META = {'set_id': 'set-1', 'job_id': runs.JOB, 'name': 'backup-web-1',
            'image_name': 'backup-web-1', 'server_id': 'srv',
            'consistency': 'crash-consistent-set',
            'requested_consistency': 'crash-consistent-set',
            'created_at': '2026-01-01T00:00:00+00:00',
            'expires_at': '2026-01-02T00:00:00+00:00', 'members': 2}
BACKUP_ID = '20260101T000000.000000Z-00000001'
HEAD = ['check-server', 'pause-server', 'create-root-image',
        'create-volume-snapshot-v1']
SNAPSHOT_END = ['unpause-server', 'wait-root-image-active',
                'record-snapshot-set', 'hold-repository-lock']
COPIES = (['wait-export-image-vda', 'write-disk-vda'],
          ['create-export-volume-vdb', 'wait-export-volume-vdb',
           'upload-export-volume-vdb', 'wait-export-image-vdb',
           'write-disk-vdb', 'delete-export-image-vdb',
           'delete-export-volume-vdb'])
TAIL = ['commit-backup', 'verify-backup', 'mark-set-deleting']
CHAINS = [HEAD + [wait] + SNAPSHOT_END + copy + TAIL + [delete]
          for wait in ('wait-root-captured', 'wait-volume-snapshot-v1')
          for copy in COPIES
          for delete in ('delete-root-image', 'delete-volume-snapshot-v1')]


class BackupFlowRunTestCase(runs.FlowRunTestCase):
    """backup-create of a server with one volume into a file repository."""

    def setUp(self):
        super().setUp()
        self.url = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'repo')
        repository.init_repository(conf.CONF, url=self.url).close()
        self.root, self.data = os.urandom(70000), os.urandom(50000)
        self.cloud.add_server('srv', root=self.root)
        self.cloud.add_volume('v1', self.data, server_id='srv')
        self.flow = backup.get_flow({'kind': 'image'}, [VOLUME], 'pause',
                                    DISKS, planned_status='ACTIVE')
        self.store = {'cloud': 'c', 'server_id': 'srv', 'set_meta': SET_META,
                      'set_id': 'set-1', 'job_id': runs.JOB,
                      'repository_url': self.url, 'backup_id': BACKUP_ID,
                      'backup_meta': {'kind': 'server-backup',
                                      'created_at': SET_META['created_at']}}

    def read(self, disk):
        with repository.open_repository(conf.CONF, url=self.url) as repo:
            return b''.join(repo.read_disk(BACKUP_ID, disk))

    def backups(self):
        with repository.open_repository(conf.CONF, url=self.url) as repo:
            return repo.backup_ids()

    def test_backs_up_every_disk_and_deletes_the_transient_set(self):
        run = self.run_flow(self.flow, self.store)
        self.assertOrder(run.executed, *CHAINS)
        self.assertEqual(BACKUP_ID, run.engine.storage.fetch('backup_id'))
        self.assertEqual((self.root, self.data),
                         (self.read('vda'), self.read('vdb')))
        self.assertEqual({'servers': ['srv'], 'images': [], 'volumes': ['v1'],
                          'snapshots': []}, self.cloud.created())
        self.assertPlainStore(run, self.flow)
        # A written disk is ids and sizes: its chunk list is in the
        # repository, whatever the disk's size.
        for disk in ('vda', 'vdb'):
            written = run.engine.storage.fetch('written_%s' % disk)
            self.assertEqual({'name', 'size', 'sha256', 'chunk_list',
                              'chunk_count', 'zero_bytes'},
                             set(written['record']))
            self.assertLess(len(json.dumps(written)), 400)

    def test_a_failed_upload_reverts_everything(self):
        self.cloud.fail('block_storage.upload_volume_to_image')
        run = self.run_flow(self.flow, self.store,
                            fails=sdk_exc.HttpException)
        self.assertEqual(['upload-export-volume-vdb'], run.failed)
        self.assertRevertedNewestFirst(run, *CHAINS)
        self.assertIn('create-export-volume-vdb', run.reverted)
        self.assertEqual({'servers': ['srv'], 'images': [], 'volumes': ['v1'],
                          'snapshots': []}, self.cloud.created())
        self.assertEqual('ACTIVE', self.cloud.servers['srv']['status'])
        self.assertEqual([], self.backups())
