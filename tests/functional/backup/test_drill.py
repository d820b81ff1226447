"""Functional tests of ``backup verify --drill`` against the minicloud: a
backup restores onto a throw-away server whose disks hold the backed-up
bytes, a damaged one fails clearly, and nothing of the drill remains."""

import json
import os
import re

from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets

from tests.functional import cli
from tests.functional import minicloud as mc

MiB = 1 << 20
# (offset, length) regions written into every disk, within 64 MiB.
REGIONS = ((4096, 64 << 10), (1 * MiB, 256 << 10), (60 * MiB, 128 << 10))


class DrillTestCase(mc.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.cli = self.useFixture(cli.ManageFixture(self.clouds_yaml))
        self.repo = os.path.join(self.cli.state, 'repo')
        self.cli.json('repository', 'init', self.repo)

    def backed_up_server(self):
        """A server with a root disk and one volume holding known bytes,
        backed up; return (backup, [sha256 of each disk])."""
        server = self.create_server(flavor=mc.SMALL_FLAVOR)
        volume = self.create_volume(size=1,
                                    volume_type=mc.SMALL_VOLUME_TYPE)
        self.attach_volume(server, volume)
        paths = [mc.server_disk_path(server.id), mc.volume_path(volume.id)]
        for n, path in enumerate(paths):
            for offset, length in REGIONS:
                pattern = ('drill-disk%d-off%d|' % (n, offset)).encode()
                mc.write_disk(path, offset,
                              (pattern * (length // len(pattern) + 1))
                              [:length])
        expected = [mc.sha256_of(p) for p in paths]
        backup = self.cli.json('backup', 'create', server.id,
                               '--repository', self.repo)
        self.assertEqual(['sha256:%s' % h for h in expected],
                         [d['checksum'] for d in backup['disks']])
        return backup, expected

    def left_behind(self, backup_id):
        """Servers, volumes, images and snapshots of every job the drill
        ran, or named after the drill; scratch repositories."""
        jobs = [job['id'] for job in self.cli.json('job', 'list')]
        name = 'drill-%s' % backup_id
        found = []
        for srv in self.conn.compute.servers(details=True,
                                             name=re.escape(name)):
            if (srv.name.startswith(name) or (srv.metadata or {}).get(
                    tags.JOB_ID) in jobs):
                found.append(('server', srv.id))
        for vol in self.conn.block_storage.volumes():
            if ((vol.name or '').startswith(name) or (vol.metadata or {}).get(
                    tags.JOB_ID) in jobs):
                found.append(('volume', vol.id))
        for img in self.conn.image.images():
            props = sets.image_properties(img)
            if ((img.name or '').startswith(name) or
                    props.get(tags.JOB_ID) in jobs or
                    props.get(tags.JOB_ID) in jobs or
                    any((img.name or '').startswith('backup-flows-' + job)
                        for job in jobs)):
                found.append(('image', img.id))
        for snap, meta in sets.member_snapshots(self.conn):
            if meta.get(tags.JOB_ID) in jobs:
                found.append(('snapshot', snap.id))
        state = os.path.join(self.cli.state, 'backup-flows')
        found.extend(('scratch', entry) for entry in os.listdir(state)
                     if entry.startswith('drill-'))
        return jobs, found


class TestDrill(DrillTestCase):

    def test_drill_restores_every_disk_and_cleans_up(self):
        backup, expected = self.backed_up_server()

        result = self.cli.json('backup', 'verify', backup['id'], '--drill',
                               '--repository', self.repo)

        self.assertEqual((backup['id'], False, True, []),
                         (result['id'], result['deep'], result['ok'],
                          result['problems']))
        drill = result['drill']
        self.assertTrue(drill['cleaned_up'])
        self.assertEqual([d['name'] for d in backup['disks']],
                         [d['name'] for d in drill['disks']])
        for disk, original, digest in zip(backup['disks'], drill['disks'],
                                          expected, strict=True):
            self.assertTrue(original['ok'], original)
            self.assertEqual({'size': disk['size'],
                              'checksum': 'sha256:%s' % digest},
                             original['expected'])
            self.assertEqual(original['expected']['checksum'],
                             original['actual']['checksum'])
            self.assertEqual(disk['size'], original['actual']['size'])
        self.assertIsNone(self.conn.compute.find_server(drill['server_id']))
        jobs, leftovers = self.left_behind(backup['id'])
        # The backup and the drill.
        self.assertEqual(2, len(jobs))
        self.assertIn(drill['job_id'], jobs)
        self.assertEqual(result['job_id'], drill['job_id'])
        self.assertEqual([], leftovers)
        # The drill did not touch the repository's backups.
        self.assertEqual([backup['id']], [b['id'] for b in self.cli.json(
            'backup', 'list', '--repository', self.repo)])

    def test_damaged_backup_fails_the_drill_and_cleans_up(self):
        backup, _ = self.backed_up_server()
        packs = sorted(
            (os.path.getsize(os.path.join(d, f)), os.path.join(d, f))
            for d, _, files in os.walk(os.path.join(self.repo, 'packs'))
            for f in files)
        size, pack = packs[-1]
        with open(pack, 'r+b') as f:
            f.seek(size // 2)
            byte = f.read(1)
            f.seek(size // 2)
            f.write(bytes([byte[0] ^ 0xff]))

        rc, out, err = self.cli.run('--format', 'json', 'backup', 'verify',
                                    backup['id'], '--drill',
                                    '--repository', self.repo)

        self.assertEqual(1, rc, err)
        errors = [line for line in err.splitlines()
                  if line.startswith('ERROR: ')]
        self.assertEqual(1, len(errors), err)
        # --format json: the failure as a JSON object on stdout too
        report = json.loads(out)
        self.assertEqual((errors[0][len('ERROR: '):], 1),
                         (report['error'], report['exit_code']))
        self.assertNotIn('Traceback', err)
        self.assertIn('Drill of backup %s failed' % backup['id'], errors[0])
        self.assertRegex(errors[0], 'backup %s disk (%s)' % (
            backup['id'], '|'.join(d['name'] for d in backup['disks'])))
        jobs, leftovers = self.left_behind(backup['id'])
        self.assertEqual(2, len(jobs))
        self.assertEqual([], leftovers)


class TestDrillInterrupted(DrillTestCase):
    """A drill killed with kill -9 while its throw-away server exists:
    ``job resume`` finishes it, ``job abort`` undoes it; either way
    nothing of it is left in the cloud."""

    def kill_drill_before(self, backup_id, task):
        """Start the drill, waiting before ``task``; kill -9 it there once
        the throw-away server is ACTIVE; return the drill's job id."""
        proc = self.cli.popen('--format', 'json', 'backup', 'verify',
                              backup_id, '--drill', '--repository',
                              self.repo, hang_before=task)

        def server_up():
            drills = [job for job in self.cli.json('job', 'list')
                      if job['flow'] == 'backup-drill']
            if not drills:
                return None
            tasks = {t['name']: t['state'] for t in self.cli.json(
                'job', 'show', drills[0]['id'])['tasks']}
            if tasks.get('wait-server-active') == 'SUCCESS':
                return drills[0]['id']
            return None

        job_id = self.kill_9_when(proc, server_up, wait=300, interval=2)
        servers = [srv for srv in self.conn.compute.servers(details=True)
                   if (srv.metadata or {}).get(tags.JOB_ID) ==
                   job_id]
        self.assertEqual(['drill-%s' % backup_id],
                         [srv.name for srv in servers])
        state = self.cli.json('job', 'show', job_id)['state']
        self.assertEqual('INTERRUPTED', state)
        return job_id

    def test_kill_9_then_resume_finishes_and_cleans_up(self):
        backup, _ = self.backed_up_server()
        job_id = self.kill_drill_before(backup['id'], 'delete-drill-server')

        rc, out, err = self.cli.run('--format', 'json', 'job', 'resume',
                                    job_id)

        self.assertEqual(0, rc, err)
        self.assertIn('"cleaned_up": true', out)
        self.assertEqual('SUCCESS',
                         self.cli.json('job', 'show', job_id)['state'])
        jobs, leftovers = self.left_behind(backup['id'])
        self.assertIn(job_id, jobs)
        self.assertEqual([], leftovers)

    def test_kill_9_then_abort_leaves_nothing(self):
        backup, _ = self.backed_up_server()
        job_id = self.kill_drill_before(backup['id'], 'delete-drill-server')

        aborted = self.cli.json('job', 'abort', job_id)

        self.assertEqual(('REVERTED', {}), (aborted['state'],
                                            aborted['failed_reverts']))
        jobs, leftovers = self.left_behind(backup['id'])
        self.assertIn(job_id, jobs)
        self.assertEqual([], leftovers)
