"""Crash safety: kill -9 a process writing a backup at random points."""

import hashlib
import io
import os
import random
import signal
import time

from backup_flows.repository import Policy
from backup_flows.repository import pack as pack_mod

from tests.unit.repository import base

_ITERATIONS = 20
_PRUNE_ITERATIONS = 12


class CrashTest(base.RepositoryTestCase):

    def _writer(self, seed):
        """Child process: write backups forever (until killed)."""
        try:
            repo = base.Repository.open(self.path(), settings=base.settings(
                pack_size=16 << 10))
            rng = random.Random(seed)
            while True:
                with repo.start_backup() as session:
                    for disk in range(rng.randint(1, 3)):
                        session.write_disk('disk%d' % disk, io.BytesIO(
                            base.disk_bytes(rng.random(), 150000)))
                    session.commit('server-%d' % (seed % 3), {'seed': seed})
        finally:
            os._exit(0)

    def test_kill_9_at_random_points(self):
        repo = self.make_repo()
        expected = {}
        rng = random.Random(1234)
        for iteration in range(_ITERATIONS):
            pid = os.fork()
            if pid == 0:
                self._writer(iteration)
            time.sleep(rng.uniform(0.0, 0.25))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            # Every listed backup is complete and restores bit for bit.
            for summary in repo.list_backups():
                self.assertNotIn('error', summary)
                if summary['id'] in expected:
                    continue
                document = repo.show_backup(summary['id'])
                expected[summary['id']] = {
                    d['name']: d['sha256'] for d in document['disks']}
            report = repo.check(deep=True)
            self.assertTrue(report['ok'], report)
        self.assertGreater(len(expected), 0)
        for backup_id, disks in expected.items():
            for name, sha in disks.items():
                data = self.read(repo, backup_id, name)
                self.assertEqual(sha, hashlib.sha256(data).hexdigest())
        # Prune (no retention) reclaims everything unreferenced: the
        # interrupted backups left some.
        self.assertGreater(repo.check()['unreferenced_packs'], 0)
        stored = repo.stats()['stored_bytes']
        result = repo.prune()
        self.assertEqual([], result['forgotten'])
        self.assertGreater(result['packs_deleted'], 0)
        self.assertLess(repo.stats()['stored_bytes'], stored)
        report = repo.check(deep=True)
        self.assertTrue(report['ok'], report)
        self.assertEqual(0, report['unreferenced_packs'])
        leftovers = [f for _, _, files in os.walk(self.path())
                     for f in files if f.startswith('.tmp-')]
        self.assertEqual([], leftovers)
        self.assertEqual([], [n for n, _ in repo.backend.list('locks/')])
        index = repo.load_index()
        packs = {pack_mod.pack_id_from_name(n)
                 for n, _ in repo.backend.list(pack_mod.PREFIX)}
        self.assertEqual(set(index.packs), packs)

    def _pruner(self):
        """Child process: prune (keep the two newest), then exit."""
        try:
            repo = base.Repository.open(self.path(), settings=base.settings(
                repack_threshold=0.01))
            repo.prune(Policy(keep_last=2))
        finally:
            os._exit(0)

    def test_kill_9_during_prune(self):
        repo = self.make_repo()
        rng = random.Random(99)
        data, previous = {}, b''
        for _ in range(_PRUNE_ITERATIONS):
            for _ in range(2):
                # Each backup repeats the new part of the previous one, so
                # prune repacks partly used packs besides deleting dead ones.
                new = base.disk_bytes(rng.random(), 40000, zeros=0)
                disk = previous + new
                previous = new
                data[self.backup(repo, {'vda': disk})] = disk
            pid = os.fork()
            if pid == 0:
                self._pruner()
            # A prune of this repository takes about 10 ms.
            time.sleep(rng.uniform(0.0, 0.015))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            # Whatever the moment: every listed backup restores bit for
            # bit and the repository checks clean.
            listed = [b['id'] for b in repo.list_backups()]
            self.assertGreaterEqual(len(listed), 2)
            for backup_id in listed:
                self.assertEqual(data[backup_id],
                                 self.read(repo, backup_id, 'vda'))
            report = repo.check(deep=True)
            self.assertTrue(report['ok'], report)
        repo.prune(Policy(keep_last=2))
        report = repo.check(deep=True)
        self.assertTrue(report['ok'], report)
        self.assertEqual(0, report['unreferenced_packs'])
        self.assertEqual(2, len(repo.list_backups()))
