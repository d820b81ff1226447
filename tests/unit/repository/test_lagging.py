"""Locks and prune on storage whose listings lag (tests/lagging.py).

Each "process" is a Repository with its own backend; all of them see the
same files through listings that hide new objects and show deleted ones
for a while, as Swift's do.
"""

import io
import os
import random
import threading
import time

from backup_flows import exceptions
from backup_flows.repository import Policy
from backup_flows.repository import Repository
from backup_flows.repository import locks
from backup_flows.repository import pending as pending_mod
from backup_flows.repository.backends import base as base_backend
from backup_flows.repository.backends import file as file_backend

from tests import lagging
from tests.unit.repository import base

_ROUNDS = 16


class LaggingTestCase(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo()

    def lagging(self, lag, **settings):
        """Another process's view of the repository, through ``lag``."""
        backend = lagging.LaggingBackend(
            file_backend.FileBackend(self.path(), {}), lag)
        repo = Repository.open(self.path(), settings=base.settings(
            **settings), backend=backend)
        self.addCleanup(repo.close)
        return repo

    def age(self, seconds=86400):
        """Make every object of the repository ``seconds`` older."""
        then = time.time() - seconds
        for dirpath, _, files in os.walk(self.path()):
            for name in files:
                os.utime(os.path.join(dirpath, name), (then, then))

    def damaged(self, repo):
        return [a['backup'] for a in repo.check()['affected']]


class WrapperTest(LaggingTestCase):

    def test_listings_lag_direct_reads_do_not(self):
        lag = lagging.Lag(0.3, jitter=False)
        view = self.lagging(lag).backend
        view.put('manifests/x', b'1')
        self.assertEqual(b'1', view.get('manifests/x'))
        self.assertEqual([], list(view.list('manifests/')))
        self.repo.backend.put('manifests/old', b'2')
        view.delete('manifests/old')
        self.assertRaises(base_backend.ObjectNotFound, view.get,
                          'manifests/old')
        self.assertEqual([('manifests/old', 1)],
                         list(view.list('manifests/')))
        time.sleep(0.35)
        self.assertEqual([('manifests/x', 1)], list(view.list('manifests/')))


class LockTest(LaggingTestCase):

    def race(self, views):
        """Every view tries to take the exclusive lock at once; return the
        locks taken."""
        barrier = threading.Barrier(len(views))
        won = []

        def take(repo):
            barrier.wait()
            try:
                won.append(locks.acquire(repo.backend, locks.EXCLUSIVE,
                                         ttl=30))
            except locks.LockConflict:
                return

        threads = [threading.Thread(target=take, args=(r,)) for r in views]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        return won

    def test_two_exclusive_lockers_never_both_win(self):
        lag = lagging.Lag(0.5, seed=1)
        views = [self.lagging(lag) for _ in range(6)]
        for _ in range(15):
            won = self.race(views)
            # The listing shows none of the others' locks: only the
            # conditional create decides, and exactly one wins.
            self.assertEqual(1, len(won))
            won[0].release()

    def test_a_shared_locker_reads_the_exclusive_lock_directly(self):
        lag = lagging.Lag(5, jitter=False)
        pruner, writer = self.lagging(lag), self.lagging(lag)
        with pruner.lock(locks.EXCLUSIVE):
            self.assertRaises(exceptions.RepositoryLocked,
                              writer.start_backup)
        writer.start_backup().abort()

    def test_two_breakers_of_a_stale_lock_never_both_win(self):
        lag = lagging.Lag(0.5, seed=2)
        views = [self.lagging(lag) for _ in range(6)]
        for round_ in range(5):
            stale = locks.Lock(self.repo.backend, locks.EXCLUSIVE, ttl=1)
            stale.document['refreshed_at'] -= 100
            self.repo.backend.put(stale.name, stale._encode())
            won = self.race(views)
            self.assertEqual(1, len(won), round_)
            self.assertEqual(won[0].document['id'], locks.read_lock(
                self.repo.backend, locks.EXCLUSIVE_OBJECT)['id'])
            won[0].release()

    def test_a_breaker_that_died_half_way_is_broken_in_turn(self):
        child = os.fork()
        if child == 0:
            os._exit(0)
        dead = locks.process_identity(child)
        os.waitpid(child, 0)
        stale = locks.Lock(self.repo.backend, locks.EXCLUSIVE, ttl=30)
        stale.document.update(dead)
        self.repo.backend.put(stale.name, stale._encode())
        # Killed after winning the right to delete it, before deleting it.
        breaker = locks.Lock(self.repo.backend, locks.EXCLUSIVE, ttl=30)
        breaker.document.update(dead)
        self.repo.backend.put(locks.BREAK_PREFIX + stale.document['id'],
                              breaker._encode())
        with self.repo.lock(locks.EXCLUSIVE) as lock:
            self.assertEqual(lock.document['id'], locks.read_lock(
                self.repo.backend, locks.EXCLUSIVE_OBJECT)['id'])
        # A live breaker's claim is respected.
        self.repo.backend.put(stale.name, stale._encode())
        live = locks.Lock(self.repo.backend, locks.EXCLUSIVE, ttl=30)
        self.repo.backend.put(locks.BREAK_PREFIX + stale.document['id'],
                              live._encode())
        self.assertRaises(exceptions.RepositoryLocked, self.repo.lock,
                          locks.EXCLUSIVE)

    def test_a_holder_notices_it_lost_its_lock(self):
        lock = self.repo.lock(locks.SHARED)
        self.addCleanup(lock.release)
        lock.check()
        # Someone judged it stale and removed it.
        self.repo.backend.delete(lock.name)
        self.assertRaises(locks.LockLost, lock.check)
        # Released, it deletes nothing (the name may be someone else's).
        self.repo.backend.put(lock.name, b'{"id": "other"}')
        lock.release()
        self.assertTrue(self.repo.backend.exists(lock.name))

    def test_a_commit_on_a_lost_lock_takes_it_again(self):
        data = base.disk_bytes(1, 60000)
        with self.repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(data))
            self.repo.backend.delete(session._lock.name)
            backup_id = session.commit('srv')
        self.assertEqual(data, self.read(self.repo, backup_id, 'vda'))
        self.assertEqual([], list(self.repo.backend.list('locks/')))

    def test_a_commit_waits_for_a_prune_that_did_not_see_it(self):
        lag = lagging.Lag(5, jitter=False)
        writer, pruner = self.lagging(lag), self.lagging(lag)
        session = writer.start_backup()
        self.addCleanup(session.abort)
        session.write_disk('vda', io.BytesIO(base.disk_bytes(2, 60000)))
        # The writer's lock is not listed yet: the prune gets its lock.
        held = pruner.lock(locks.EXCLUSIVE)
        timer = threading.Timer(0.5, held.release)
        timer.start()
        started = time.monotonic()
        backup_id = session.commit('srv')
        self.assertGreater(time.monotonic() - started, 0.4)
        timer.join()
        self.assertEqual([], self.damaged(self.repo))
        self.assertIn(backup_id, self.repo.backup_ids())


class PruneTest(LaggingTestCase):

    def test_hidden_manifest_with_no_grace_loses_data(self):
        # What prune_grace prevents (and proof the wrapper bites): a
        # backup deduplicated against a forgotten backup's packs and
        # committed a moment before a prune that cannot list it yet.
        data = base.disk_bytes(3, 100000)
        old = self.backup(self.repo, {'vda': data})
        self.repo.forget([old])
        self.age()
        lag = lagging.Lag(5, jitter=False)
        new = self.backup(self.lagging(lag), {'vda': data})
        result = self.lagging(lag, prune_grace=0).prune()
        self.assertGreater(result['packs_deleted'], 0)
        self.assertEqual([new], self.damaged(self.repo))

    def test_hidden_manifest_keeps_its_chunks(self):
        data = base.disk_bytes(4, 100000)
        old = self.backup(self.repo, {'vda': data})
        self.repo.forget([old])
        self.age()
        lag = lagging.Lag(0.3, jitter=False)
        new = self.backup(self.lagging(lag, prune_grace=0.5), {'vda': data})
        pruner = self.lagging(lag, prune_grace=0.5)
        first = pruner.prune()
        # Unused in its view, old: pending, not deleted.
        self.assertEqual(0, first['packs_deleted'])
        self.assertGreater(first['packs_pending'], 0)
        self.assertEqual(data, self.read(self.repo, new, 'vda'))
        time.sleep(0.6)
        # Pending for the grace period, but the manifest is listed now.
        second = pruner.prune()
        self.assertEqual((0, 0), (second['packs_deleted'],
                                  second['packs_pending']))
        self.assertEqual(data, self.read(self.repo, new, 'vda'))
        self.assertTrue(self.repo.check(deep=True)['ok'])

    def test_a_backup_rescues_a_pack_due_for_deletion(self):
        data = base.disk_bytes(5, 100000)
        old = self.backup(self.repo, {'vda': data})
        self.repo.forget([old])
        self.age()
        lag = lagging.Lag(0.2, jitter=False)
        pruner = self.lagging(lag, prune_grace=0.5)
        self.assertGreater(pruner.prune()['packs_pending'], 0)
        time.sleep(0.75)
        # The packs are due; a backup deduplicates against them and
        # commits; the next prune does not list it yet.
        new = self.backup(self.lagging(lag, prune_grace=0.5), {'vda': data})
        self.assertGreater(len(list(self.repo.backend.list(
            pending_mod.RESCUE_PREFIX))), 0)
        result = pruner.prune()
        self.assertEqual(0, result['packs_deleted'])
        self.assertEqual([], self.damaged(self.repo))
        self.assertEqual(data, self.read(self.repo, new, 'vda'))
        # Rescued packs are live again; their rescue records go once a
        # prune lists them.
        self.assertEqual(0, result['packs_pending'])
        time.sleep(0.25)
        pruner.prune()
        self.assertEqual([], list(self.repo.backend.list(
            pending_mod.RESCUE_PREFIX)))

    def test_a_backup_started_unseen_keeps_what_it_deduplicates(self):
        data = base.disk_bytes(8, 100000)
        old = self.backup(self.repo, {'vda': data})
        self.repo.forget([old])
        self.age()
        lag = lagging.Lag(0.1, jitter=False)
        pruner = self.lagging(lag, prune_grace=1.5)
        self.assertGreater(pruner.prune()['packs_pending'], 0)
        time.sleep(1.55)
        # A backup deduplicating against the due packs starts just before
        # a prune that cannot list its lock at first; the prune lists the
        # locks again before deleting.
        session = self.lagging(lag, prune_grace=1.5).start_backup()
        self.addCleanup(session.abort)
        session.write_disk('vda', io.BytesIO(data))
        self.assertEqual(0, session.stats['new_chunks'])
        result = pruner.prune()
        self.assertEqual(0, result['packs_deleted'])
        self.assertGreater(result['packs_pending'], 0)
        backup_id = session.commit('srv')
        self.assertEqual(data, self.read(self.repo, backup_id, 'vda'))

    def test_young_data_of_a_running_backup_is_left_alone(self):
        lag = lagging.Lag(5, jitter=False)
        writer = self.lagging(lag, prune_grace=60)
        data = base.disk_bytes(6, 200000)
        session = writer.start_backup()
        self.addCleanup(session.abort)
        session.write_disk('vda', io.BytesIO(data))
        # The prune sees no lock, no manifest and none of the new
        # objects' index files: only their packs, written just now.
        result = self.lagging(lag, prune_grace=60).prune()
        self.assertEqual(0, result['packs_deleted'])
        backup_id = session.commit('srv')
        self.assertEqual(data, self.read(self.repo, backup_id, 'vda'))

    def test_prune_while_backups_commit(self):
        # A backup and a prune started at a random moment of it, over and
        # over; listings lag up to 0.2 s, grace 0.8 s: no committed backup
        # ever loses a chunk, though prune deletes what they forgot.
        lag = lagging.Lag(0.2, seed=7)
        rng = random.Random(7)
        pool = [base.disk_bytes(rng.random(), 40000, zeros=0)
                for _ in range(4)]
        writer = self.lagging(lag, prune_grace=0.8, lock_wait=5)
        pruner = self.lagging(lag, prune_grace=0.8, lock_wait=5)
        committed, forgotten, deleted = {}, set(), 0
        for _ in range(_ROUNDS):
            disk = b''.join(rng.sample(pool, 2))
            done = {}
            thread = threading.Thread(target=lambda d=disk, o=done: o.update(
                id=self.backup(writer, {'vda': d})))
            thread.start()
            time.sleep(rng.uniform(0, 0.15))
            result = pruner.prune(Policy(keep_last=1))
            thread.join(30)
            committed[done['id']] = disk
            forgotten.update(result['forgotten'])
            deleted += result['packs_deleted']
            time.sleep(rng.uniform(0.05, 0.25))
        self.assertGreater(deleted, 0)
        kept = {b: d for b, d in committed.items() if b not in forgotten}
        self.assertGreater(len(forgotten), 3)
        self.assertEqual(set(kept), set(self.repo.backup_ids()))
        for backup_id, disk in kept.items():
            self.assertEqual(disk, self.read(self.repo, backup_id, 'vda'))
        report = self.repo.check(deep=True)
        self.assertTrue(report['ok'], report)
