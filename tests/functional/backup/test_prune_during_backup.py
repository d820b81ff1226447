"""A prune attempted before every task of a backup flow (file and Swift).

``prune_hook`` runs ``backup create`` and, before each task, a prune that
waits for no lock and keeps nothing for a grace period. From the flow's
first write to its commit the flow holds its shared lock: every such prune
is refused, though it would have deleted the backup's data; the backup
completes and restores bit for bit.
"""

import json
import os
import subprocess
import sys
import uuid

from openstack import exceptions as sdk_exc

from backup_flows.repository import Repository
from backup_flows.repository import backends

from tests.functional import cli
from tests.functional import minicloud as mc


class PruneDuringBackupTest(mc.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.cli = self.useFixture(cli.ManageFixture(self.clouds_yaml))

    def swift_url(self):
        container = 'bf-ft-%s' % uuid.uuid4().hex[:12]
        self.addCleanup(self._delete_container, container)
        return 'swift://%s/repo' % container

    def _delete_container(self, container):
        store = self.conn.object_store
        try:
            objects = list(store.objects(container))
        except sdk_exc.NotFoundException:
            return
        for obj in objects:
            store.delete_object(obj, container=container, ignore_missing=True)
        store.delete_container(container, ignore_missing=True)

    def backup_with_prunes(self, url):
        self.cli.json('repository', 'init', url)
        server, _ = self.make_server()
        path, = self.disk_paths(server, [])
        records = os.path.join(self.cli.state, 'prunes.json')
        argv = ['--format', 'json', 'backup', 'create', server.id,
                '--repository', url]
        proc = subprocess.run(
            [sys.executable, '-m', 'tests.functional.backup.prune_hook',
             records, '--'] + argv, capture_output=True, text=True,
            env=self.cli.env, timeout=300)
        self.assertEqual(0, proc.returncode, proc.stderr)
        backup = json.loads(proc.stdout)
        with open(records) as f:
            attempts = json.load(f)
        tasks = [a['task'] for a in attempts]
        start = tasks.index('hold-repository-lock')
        end = tasks.index('commit-backup')
        self.assertEqual(0, start)
        self.assertEqual('ran', attempts[start]['outcome'])
        window = attempts[start + 1:end + 1]
        self.assertIn('write-disk-vda', [a['task'] for a in window])
        # Refused at every point from the first write to the commit...
        self.assertEqual(['locked'] * len(window),
                         [a['outcome'] for a in window], attempts)
        # ... where it would have deleted the backup's data.
        self.assertGreater(max(a['would_delete'] for a in window), 0)
        # After the commit prunes run, and delete nothing it needs.
        self.assertEqual(end + 2, len(attempts))
        self.assertEqual('ran', attempts[-1]['outcome'])
        self.assertEqual(0, attempts[-1]['would_delete'])
        self.assertTrue(self.cli.json('repository', 'check', '--deep',
                                      '--repository', url)['ok'])
        extra = {}
        if url.startswith('swift://'):
            extra['connection'] = mc.connection('minicloud',
                                                self.clouds_yaml)
        backend = backends.load_backend(url, **extra)
        out = os.path.join(self.cli.state, 'restored')
        with Repository.open(url, backend=backend) as repo:
            repo.restore_disk(backup['id'], 'vda', out)
        self.assertEqual(mc.sha256_of(path), mc.sha256_of(out))

    def test_file_repository(self):
        self.backup_with_prunes(os.path.join(self.cli.state, 'repo'))

    def test_swift_repository(self):
        self.backup_with_prunes(self.swift_url())
