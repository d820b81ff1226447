"""Locks and prune on the minicloud's Swift with listings that lag.

The minicloud's Swift has one replica, so its listings are up to date at
once; tests/lagging.py makes them lag as a real cluster's do (new objects
missing, deleted ones still listed). Conditional creates and direct reads
go to Swift itself (``If-None-Match: *`` is Swift's own).
"""

import random
import threading
import time

from backup_flows.repository import Policy
from backup_flows.repository import Repository
from backup_flows.repository import backends
from backup_flows.repository import locks

from tests import lagging
from tests.functional import minicloud as mc
from tests.functional.repository import test_swift
from tests.unit.repository import base


class SwiftLaggingTest(test_swift.SwiftRepositoryTestCase):

    def lagging(self, lag, **settings):
        # PUTs of a lock take milliseconds here: racing conditional
        # creates have all landed well within 0.5 s.
        backend = backends.load_backend(self.url() + '&create_settle=0.5',
                                        connection=mc.connection('minicloud'))
        repo = Repository.open(self.url(), settings=base.settings(
            **settings), backend=lagging.LaggingBackend(backend, lag))
        self.addCleanup(repo.close)
        return repo

    def test_two_exclusive_lockers_never_both_win(self):
        self.make_repo()
        lag = lagging.Lag(2, seed=3)
        views = [self.lagging(lag) for _ in range(5)]
        for _ in range(5):
            barrier = threading.Barrier(len(views))
            won, errors = [], []

            def take(repo, barrier=barrier, won=won, errors=errors):
                barrier.wait()
                try:
                    won.append(locks.acquire(repo.backend, locks.EXCLUSIVE,
                                             ttl=30))
                except locks.LockConflict:
                    return
                except Exception as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=take, args=(r,))
                       for r in views]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            self.assertEqual([], errors)
            self.assertEqual(1, len(won))
            won[0].release()

    def test_prune_while_backups_commit(self):
        repo = self.make_repo()
        lag = lagging.Lag(0.3, seed=5)
        rng = random.Random(5)
        pool = [base.disk_bytes(rng.random(), 40000, zeros=0)
                for _ in range(4)]
        writer = self.lagging(lag, prune_grace=1.2, lock_wait=10)
        pruner = self.lagging(lag, prune_grace=1.2, lock_wait=10)
        committed, forgotten, deleted = {}, set(), 0
        for _ in range(7):
            disk = b''.join(rng.sample(pool, 2))
            done = {}
            thread = threading.Thread(target=lambda d=disk, o=done: o.update(
                id=self.backup(writer, {'vda': d})))
            thread.start()
            time.sleep(rng.uniform(0, 0.3))
            result = pruner.prune(Policy(keep_last=1))
            thread.join(60)
            committed[done['id']] = disk
            forgotten.update(result['forgotten'])
            deleted += result['packs_deleted']
            time.sleep(rng.uniform(0.1, 0.4))
        self.assertGreater(deleted, 0)
        kept = {b: d for b, d in committed.items() if b not in forgotten}
        self.assertEqual(set(kept), set(repo.backup_ids()))
        for backup_id, disk in kept.items():
            self.assertEqual(disk, self.read(repo, backup_id, 'vda'))
        report = repo.check(deep=True)
        self.assertTrue(report['ok'], report)
