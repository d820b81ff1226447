"""Functional tests of ``backup create|list|show|delete|verify|prune``
against the minicloud: bytes in the repository equal the disks' bytes,
failures leave nothing behind, an interrupted backup resumes."""

import json
import os
import uuid

from backup_flows.flows import backup as backup_flows_mod

from tests import flowutils
from tests.functional import cli
from tests.functional import leaks
from tests.functional import minicloud as mc

MiB = 1 << 20



def _hash_prefix(path, size):
    return mc.sha256_of(path, size)


class BackupTestCase(mc.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.cli = self.useFixture(cli.ManageFixture(self.clouds_yaml))
        self.repo = os.path.join(self.cli.state, 'repo')
        self.cli.json('repository', 'init', self.repo)

    def backup(self, server, *args):
        return self.cli.json('backup', 'create', server.id,
                             '--repository', self.repo, *args)

    def leaks(self, job_id):
        """Resources of backup job ``job_id`` still in the cloud."""
        self.assertTrue(job_id)
        return leaks.job_leaks(self.conn, job_id)

    def job_holding(self, job_id, kind):
        """``job_id`` once a resource of ``kind`` of that job exists."""
        if job_id and any(k == kind for k, _ in self.leaks(job_id)):
            return job_id
        return None

    def last_job(self):
        jobs = self.cli.json('job', 'list')
        return jobs[-1]['id'] if jobs else None

    def listed(self):
        return self.cli.json('backup', 'list', '--repository', self.repo)

    def _read_back(self, backup_id, disk, out):
        from backup_flows import conf as bf_conf
        from backup_flows import repository
        with repository.open_repository(bf_conf.CONF, url=self.repo) as r:
            r.restore_disk(backup_id, disk, out)


class TestBackup(BackupTestCase):

    def test_backup_holds_every_disk_and_the_definition(self):
        server, volumes = self.make_server(volumes=2)
        paths = self.disk_paths(server, volumes)
        self.write_generation(paths, 1)
        self.conn.compute.set_server_metadata(server, purpose='test')
        expected = [mc.sha256_of(p) for p in paths]
        result = self.backup(server, '--tag', 'weekly')

        self.assertEqual(server.id, result['server_id'])
        self.assertEqual(server.name, result['server_name'])
        self.assertEqual('crash-consistent-set', result['consistency'])
        self.assertEqual(['weekly'], result['tags'])
        self.assertEqual('available', result['status'])
        self.assertEqual(self.repo, result['repository'])
        self.assertEqual(['sha256:%s' % h for h in expected],
                         [d['checksum'] for d in result['disks']])
        self.assertEqual([os.path.getsize(p) for p in paths],
                         [d['size'] for d in result['disks']])
        self.assertTrue(all(d['stored_bytes'] is not None
                            for d in result['disks']))
        # The repository returns exactly the disks' bytes.
        for disk, path in zip(result['disks'], paths, strict=True):
            out = os.path.join(self.cli.state, 'restored-' + disk['name'])
            self._read_back(result['id'], disk['name'], out)
            self.assertEqual(mc.sha256_of(path), mc.sha256_of(out))
        # The definition is in the manifest.
        from backup_flows import conf as bf_conf
        from backup_flows import repository
        with repository.open_repository(bf_conf.CONF, url=self.repo) as r:
            meta = r.show_backup(result['id'])['metadata']
        definition = meta['server']
        self.assertEqual('m1.nano', definition['flavor']['name'])
        self.assertEqual({'purpose': 'test'}, definition['metadata'])
        self.assertEqual(mc.NETWORK,
                         definition['networks'][0]['network_name'])
        self.assertEqual(['root-image', 'volume', 'volume'],
                         [d['role'] for d in definition['disks']])
        self.assertEqual(sorted(v.id for v in volumes),
                         sorted(d['volume_id'] for d in definition['disks']
                                if d['role'] == 'volume'))
        # Nothing temporary is left; the server runs again.
        self.assertEqual([], self.leaks(result['job_id']))
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
        # list / show / verify / delete
        self.assertEqual([result['id']], [b['id'] for b in self.listed()])
        self.assertEqual(result['disks'], self.cli.json(
            'backup', 'show', result['id'], '--repository',
            self.repo)['disks'])
        self.assertTrue(self.cli.json('backup', 'verify', result['id'],
                                      '--deep', '--repository',
                                      self.repo)['ok'])
        self.cli.json('backup', 'delete', result['id'], '--repository',
                      self.repo)
        self.assertEqual([], self.listed())

    def test_boot_from_volume_server(self):
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        boot = self.create_volume(size=1, image_id=image.id,
                                  volume_type=mc.SMALL_VOLUME_TYPE)
        server = self.create_server(
            flavor=mc.SMALL_FLAVOR,
            block_device_mapping=[{'boot_index': 0, 'uuid': boot.id,
                                   'source_type': 'volume',
                                   'destination_type': 'volume',
                                   'delete_on_termination': False}])
        path = mc.volume_path(boot.id)
        mc.write_disk(path, 5 * MiB, b'boot-volume-bytes' * 100)
        expected = mc.sha256_of(path)
        result = self.backup(server, '--quiesce', 'stop')
        self.assertEqual('cold', result['consistency'])
        self.assertEqual(['sha256:%s' % expected],
                         [d['checksum'] for d in result['disks']])
        self.assertEqual([], self.leaks(result['job_id']))
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)

    def test_swift_repository(self):
        container = 'ft-backups-%s' % uuid.uuid4().hex[:8]
        url = 'swift://%s/servers?cloud=minicloud' % container
        self.addCleanup(self._delete_container, container)
        self.cli.json('repository', 'init', url)
        server, _ = self.make_server()
        expected = self.write_generation(self.disk_paths(server, []), 1)
        result = self.cli.json('backup', 'create', server.id,
                               '--repository', url)
        self.assertEqual(['sha256:%s' % expected[0]],
                         [d['checksum'] for d in result['disks']])
        self.assertTrue(self.cli.json('backup', 'verify', result['id'],
                                      '--deep', '--repository', url)['ok'])

    def _delete_container(self, container):
        for obj in self.conn.object_store.objects(container):
            self.conn.object_store.delete_object(obj, container=container,
                                                 ignore_missing=True)
        self.conn.object_store.delete_container(container,
                                                ignore_missing=True)


class TestIncremental(BackupTestCase):

    def test_second_backup_adds_little_and_prune_keeps_it(self):
        server, volumes = self.make_server(volumes=1)
        paths = self.disk_paths(server, volumes)
        self.write_generation(paths, 1)
        first = self.backup(server)
        # Change about 3% of the root disk (2 MiB of 64 MiB, scattered).
        for n in range(32):
            mc.write_disk(paths[0], n * 2 * MiB + 4096 * n,
                          os.urandom(64 << 10))
        second = self.backup(server)
        added = sum(d['stored_bytes'] for d in second['disks'])
        logical = sum(d['size'] for d in second['disks'])
        # About 2 MiB of random data changed: it is what gets stored.
        self.assertLess(added, 4 * MiB, second['disks'])
        self.addDetail('incremental', _text(
            'second backup stored %d bytes for %d bytes of disks'
            % (added, logical)))
        for backup in (first, second):
            self.assertTrue(self.cli.json(
                'backup', 'verify', backup['id'], '--deep',
                '--repository', self.repo)['ok'])
        pruned = self.cli.json('backup', 'prune', '--keep-last', '1',
                               '--repository', self.repo)
        self.assertEqual([first['id']], pruned['forgotten'])
        self.assertEqual([second['id']], [b['id'] for b in self.listed()])
        check = self.cli.json('repository', 'check', '--deep',
                              '--repository', self.repo)
        self.assertTrue(check['ok'], check)
        out = os.path.join(self.cli.state, 'vda')
        TestBackup._read_back(self, second['id'], 'vda', out)
        self.assertEqual(mc.sha256_of(paths[0]), mc.sha256_of(out))


def _text(value):
    from testtools import content
    return content.text_content(value)


class TestBackupReverts(BackupTestCase):
    """A failure injected before each task of the backup flow in turn.

    The injection points are shared out between PARTS tests (each with a
    server of its own) so that they run side by side.
    """

    PARTS = 4

    def test_failure_before_each_task_leaves_nothing_1(self):
        self._fail_before_each_task(0)

    def test_failure_before_each_task_leaves_nothing_2(self):
        self._fail_before_each_task(1)

    def test_failure_before_each_task_leaves_nothing_3(self):
        self._fail_before_each_task(2)

    def test_failure_before_each_task_leaves_nothing_4(self):
        self._fail_before_each_task(3)

    def _fail_before_each_task(self, part):
        server, volumes = self.make_server(volumes=1)
        volume = {'volume_id': volumes[0].id, 'device': '/dev/sdb'}
        disks = [{'disk': 'vda', 'role': 'root-image', 'exporter': 'image'},
                 {'disk': 'sdb', 'role': 'volume', 'exporter': 'volume-image',
                  'volume_id': volumes[0].id, 'size_gb': 1}]
        flow = backup_flows_mod.get_flow({'kind': 'image'}, [volume],
                                         'pause', disks)
        names = flowutils.injection_points(flow)
        best_effort = {atom.name for atom in flowutils.atoms(flow)
                       if atom.best_effort}
        self.assertGreater(len(names), 12)
        self.assertEqual(3, len(best_effort))
        for name in flowutils.part(names, part, self.PARTS):
            if name in best_effort:
                self._fail_after_the_commit(server, name)
                continue
            rc, _, err = self.cli.run('backup', 'create', server.id,
                                      '--repository', self.repo,
                                      fail_before=name)
            self.assertEqual(1, rc, '%s: %s' % (name, err))
            self.assertIn('failure injected', err)
            self.assertEqual([], self.leaks(self.last_job()), name)
            self.assertEqual([], self.listed(), name)
            self.assertEqual('ACTIVE', self.conn.compute.get_server(
                server.id).status, name)
            self.assertEqual('in-use', self.conn.block_storage.get_volume(
                volumes[0].id).status, name)
        check = self.cli.json('repository', 'check', '--repository',
                              self.repo)
        self.assertTrue(check['ok'], check)

    def _fail_after_the_commit(self, server, name):
        """A best-effort cleanup task failing: the backup is kept, the
        server runs, `job cleanup` deletes what the task left."""
        rc, out, err = self.cli.run('--format', 'json', 'backup', 'create',
                                    server.id, '--repository', self.repo,
                                    fail_before=name)
        self.assertEqual(0, rc, '%s: %s' % (name, err))
        result = json.loads(out)
        self.assertEqual([name], list(result['transient_set']['errors']))
        self.assertEqual([result['id']], [b['id'] for b in self.listed()])
        self.assertEqual('ACTIVE', self.conn.compute.get_server(
            server.id).status, name)
        self.cli.json('job', 'cleanup')
        self.assertEqual([], self.leaks(result['job_id']), name)
        self.cli.json('backup', 'delete', result['id'], '--repository',
                      self.repo)


class TestBackupFailedRevert(BackupTestCase):

    def test_a_failed_revert_leaves_only_its_own_resource(self):
        server, volumes = self.make_server(volumes=1)
        snapshot_task = 'create-volume-snapshot-%s' % volumes[0].id
        rc, _, err = self.cli.run('backup', 'create', server.id,
                                  '--repository', self.repo,
                                  fail_before='wait-export-volume-sdb',
                                  fail_revert=snapshot_task)
        self.assertEqual(1, rc, err)
        self.assertIn('the revert of %s failed' % snapshot_task, err)
        self.assertNotIn('Traceback', err)
        job_id = self.last_job()
        left = self.leaks(job_id)
        # Only the volume snapshot whose revert failed is left: the
        # reverts after it (root image, export volume) ran.
        self.assertEqual(['set snapshot'], [kind for kind, _ in left])
        self.addCleanup(self._delete_snapshot, self.conn, left[0][1])
        self.assertEqual([], self.listed())
        # job cleanup finds it by the job id and deletes it.
        removed = self.cli.json('job', 'cleanup')
        self.assertEqual([('snapshot', left[0][1], 'deleted')],
                         [(r['kind'], r['id'], r['result']) for r in removed])
        self.assertEqual([], self.leaks(job_id))
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
        self.assertEqual('in-use', self.conn.block_storage.get_volume(
            volumes[0].id).status)


class TestBackupResume(BackupTestCase):

    def test_kill_9_during_copy_then_resume(self):
        server, volumes = self.make_server(volumes=1)
        paths = self.disk_paths(server, volumes)
        expected = self.write_generation(paths, 1)
        # Kill it once the temporary export volume exists (the copy of
        # the volume is under way): it waits there, so the kill cannot
        # come after the backup has finished.
        proc = self.cli.popen('backup', 'create', server.id,
                              '--repository', self.repo,
                              hang_before='upload-export-volume-sdb')
        job_id = self.kill_9_when(
            proc, lambda: self.job_holding(self.last_job(), 'volume'),
            wait=180)
        jobs = self.cli.json('job', 'list')
        self.assertEqual(['INTERRUPTED'], [job['state'] for job in jobs])
        self.assertEqual([], self.listed())

        rc, out, err = self.cli.run('--format', 'json', 'job', 'resume',
                                    jobs[0]['id'])
        self.assertEqual(0, rc, err)
        listed = self.listed()
        self.assertEqual(1, len(listed))
        shown = self.cli.json('backup', 'show', listed[0]['id'],
                              '--repository', self.repo)
        self.assertEqual(['sha256:%s' % h for h in expected],
                         [d['checksum'] for d in shown['disks']])
        # job resume prints the backup as backup create does
        resumed = json.loads(out)
        self.assertTrue(resumed.pop('transient_set')['deleted'])
        self.assertEqual(shown, resumed)
        self.assertEqual([], self.leaks(job_id))
        check = self.cli.json('repository', 'check', '--deep',
                              '--repository', self.repo)
        self.assertTrue(check['ok'], check)


class TestCleanupAfterCommit(BackupTestCase):

    def test_failed_set_cleanup_keeps_the_backup(self):
        server, volumes = self.make_server(volumes=1)
        paths = self.disk_paths(server, volumes)
        expected = self.write_generation(paths, 1)

        rc, out, err = self.cli.run('--format', 'json', 'backup', 'create',
                                    server.id, '--repository', self.repo,
                                    fail_before='delete-root-image')

        self.assertEqual(0, rc, err)
        result = json.loads(out)
        self.assertEqual(['delete-root-image'],
                         list(result['transient_set']['errors']))
        self.assertFalse(result['transient_set']['deleted'])
        self.assertEqual([result['id']], [b['id'] for b in self.listed()])
        job = self.cli.json('job', 'show', result['job_id'])
        self.assertEqual('SUCCESS', job['state'])
        self.assertEqual(['delete-root-image'], list(job['failed_cleanups']))
        # the other member went; the root image is left, tagged
        left = self.leaks(result['job_id'])
        self.assertIn('set image', [kind for kind, _ in left])
        self.assertEqual(1, len({ident for _, ident in left}), left)
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
        # every disk of the backup reads back bit for bit
        for disk, digest in zip(result['disks'], expected, strict=True):
            target = os.path.join(self.cli.state, 'read-' + disk['name'])
            self._read_back(result['id'], disk['name'], target)
            self.assertEqual(digest, mc.sha256_of(target))

        rows = self.cli.json('job', 'cleanup')

        self.assertEqual([(left[0][1], 'deleted')],
                         [(row['id'], row['result']) for row in rows
                          if row['job_id'] == result['job_id']])
        self.assertEqual([], self.leaks(result['job_id']))
        self.assertEqual([result['id']], [b['id'] for b in self.listed()])


class TestBackupAbort(BackupTestCase):

    def test_kill_9_while_paused_then_abort(self):
        server, volumes = self.make_server(volumes=1)
        proc = self.cli.popen('backup', 'create', server.id,
                              '--repository', self.repo,
                              hang_before='unpause-server')
        mc.wait_for_status(self.conn.compute.get_server, server.id,
                           'paused', task_state=None)
        job_id = self.kill_9_when(
            proc, lambda: self.job_holding(self.last_job(), 'set snapshot'),
            wait=60)
        self.assertEqual('PAUSED',
                         self.conn.compute.get_server(server.id).status)

        aborted = self.cli.json('job', 'abort', job_id)

        self.assertEqual(('REVERTED', {}), (aborted['state'],
                                            aborted['failed_reverts']))
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
        self.assertEqual([], self.leaks(job_id))
        self.assertEqual([], self.listed())
        self.assertEqual('in-use', self.conn.block_storage.get_volume(
            volumes[0].id).status)
        # Aborted once: neither resumable nor abortable again.
        rc, _, err = self.cli.run('job', 'abort', job_id)
        self.assertEqual(2, rc, err)
        self.assertIn('cannot be aborted: it is REVERTED', err)
        rc, _, err = self.cli.run('job', 'abort', 'no-such-job')
        self.assertEqual(2, rc, err)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn('not found', err)


class TestBackupErrors(BackupTestCase):

    def assertRefused(self, rc_expected, fragment, *argv):
        rc, out, err = self.cli.run(*argv)
        self.assertEqual(rc_expected, rc, err)
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertIn(fragment, lines[0])
        self.assertNotIn('Traceback', err)
        self.assertEqual([], self.cli.json('job', 'list'))

    def test_bad_input(self):
        server, _ = self.make_server()
        self.assertRefused(2, 'not found', 'backup', 'create',
                           'no-such-server', '--repository', self.repo)
        self.assertRefused(2, "'freeze'", 'backup', 'create', server.id,
                           '--quiesce', 'freeze', '--repository', self.repo)
        missing = os.path.join(self.cli.state, 'no-repo')
        self.assertRefused(2, missing, 'backup', 'create', server.id,
                           '--repository', missing)
        self.assertRefused(2, 'not found', 'backup', 'show',
                           '20000101T000000.000000Z-00000000',
                           '--repository', self.repo)
        self.assertRefused(2, 'nowhere', '--os-cloud', 'nowhere', 'backup',
                           'create', server.id, '--repository', self.repo)
        self.assertEqual([], self.listed())

    def test_damaged_backup_is_named_by_verify(self):
        server, volumes = self.make_server(volumes=1)
        self.write_generation(self.disk_paths(server, volumes), 1)
        result = self.backup(server)
        packs = []
        for root, _, files in os.walk(os.path.join(self.repo, 'packs')):
            packs.extend(os.path.join(root, f) for f in files)
        self.assertTrue(packs)
        for pack in packs:
            with open(pack, 'r+b') as f:
                f.seek(100)
                byte = f.read(1)
                f.seek(100)
                f.write(bytes([byte[0] ^ 0xFF]))
        rc, out, err = self.cli.run('backup', 'verify', result['id'],
                                    '--deep', '--repository', self.repo)
        self.assertEqual(1, rc, err)
        self.assertIn('damaged', err)
        self.assertIn('vda', err)
        self.assertNotIn('Traceback', err)
