"""A chunk stored twice is two chances: reads fall back to the other copy,
check --deep names every damaged copy, backups re-store a chunk whose copies
are all damaged, and check --repair drops damaged copies."""

import hashlib
import io
import os

import fixtures

from backup_flows import exceptions
from backup_flows.repository import index as index_mod
from backup_flows.repository import locks
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import reader

from tests.unit.repository import base


class CopiesTest(base.RepositoryTestCase):
    """Backups A and B of one disk were written at the same time by two
    processes, so every chunk of the disk is stored twice (once by each)."""

    encrypted = False

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo(encrypted=self.encrypted)
        self.data = base.disk_bytes(30, 120000, zeros=0.1)
        secret = self.secret if self.encrypted else None
        first = self.open_repo(secret=secret)
        second = self.open_repo(secret=secret)
        # Both sessions read the index before either writes.
        with first.start_backup() as one, second.start_backup() as two:
            one.write_disk('vda', io.BytesIO(self.data))
            self.a = one.commit('server-a')
            # (In a plain repository identical packs would have one name.)
            two.store_chunk(b'second writer' * 100)
            two.write_disk('vda', io.BytesIO(self.data))
            self.b = two.commit('server-b')
        self.chunks = self.chunk_list(self.a)
        self.assertEqual(self.chunks, self.chunk_list(self.b))
        self.repo.load_index()
        for chunk_id, _, _ in self.chunks:
            self.assertEqual(2, len(self.repo.index.locations(chunk_id)))
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.logger = self.useFixture(fixtures.FakeLogger(
            name='backup_flows.repository'))

    def chunk_list(self, backup_id):
        """[(chunk id, offset in the disk, length)] of the stored chunks."""
        result, offset = [], 0
        for chunk_id, length in self.disk_chunks(self.repo, backup_id):
            if chunk_id is not None:
                result.append((chunk_id, offset, length))
            offset += length
        return result

    def restored(self, backup_id):
        target = os.path.join(self.tmp, 'restored-%s' % backup_id)
        self.repo.restore_disk(backup_id, 'vda', target)
        with open(target, 'rb') as f:
            return f.read()

    def assertRestorable(self):
        for backup_id in (self.a, self.b):
            self.assertEqual(self.data, self.read(self.repo, backup_id, 'vda'))
            self.assertEqual(self.data, self.restored(backup_id))

    def damaged_records(self):
        return [name for name, _ in self.repo.backend.list(
            index_mod.DAMAGED_PREFIX)]

    def assertNamesCopy(self, report, chunk_id, pack_id, good_copy=True):
        self.assertFalse(report['ok'])
        self.assertEqual([(chunk_id.hex(), pack_id, good_copy)],
                         [(c['chunk'], c['pack'], c['good_copy'])
                          for c in report['damaged_copies']])

    # -- reads ------------------------------------------------------------

    def _read_falls_back(self, copy):
        chunk_id = self.chunks[3][0]
        pack_id = self.damage(chunk_id, copy)
        self.assertRestorable()
        if copy == 0:
            # Reads met the damaged copy: said so and recorded it.
            self.assertIn('Chunk %s: damaged in pack %s'
                          % (chunk_id.hex(), pack_id), self.logger.output)
            self.assertIn('read its copy in pack', self.logger.output)
            self.assertEqual(1, len(self.damaged_records()))
            index = self.repo.load_index()
            self.assertEqual({(pack_id, chunk_id)}, set(index.damaged))
            self.assertNotEqual(pack_id, index.lookup(chunk_id)[0])
        report = self.repo.check(deep=True)
        self.assertNamesCopy(report, chunk_id, pack_id)
        self.assertEqual([], report['affected'])
        self.assertEqual({}, report['bad_chunks'])
        self.assertIn(pack_id, report['damaged_packs'])
        return chunk_id, pack_id

    def test_preferred_copy_damaged_reads_fall_back(self):
        self._read_falls_back(0)

    def test_other_copy_damaged_check_names_it(self):
        chunk_id, pack_id = self._read_falls_back(1)
        # The copy reads did not use is only found by check --deep, which
        # records it: reads now avoid it.
        self.assertEqual(1, len(self.damaged_records()))
        self.assertEqual({(pack_id, chunk_id)},
                         set(self.repo.load_index().damaged))
        self.assertTrue(self.repo.check()['ok'])  # sizes are right

    def test_quick_check_sees_every_copy(self):
        chunk_id = self.chunks[2][0]
        pack_id, _, _, _ = self.repo.index.locations(chunk_id)[1]
        os.truncate(os.path.join(self.path(), *pack_mod.pack_name(
            pack_id).split('/')), 10)
        report = self.repo.check()
        self.assertFalse(report['ok'])
        self.assertEqual([], report['affected'])
        self.assertIn(chunk_id.hex(), [c['chunk']
                                       for c in report['damaged_copies']])
        self.assertEqual({pack_id}, {c['pack']
                                     for c in report['damaged_copies']})
        self.assertRestorable()

    def test_error_names_the_damaged_chunks_offset(self):
        chunk_id, offset, _ = self.chunks[5]
        self.damage(chunk_id, 0)
        self.damage(chunk_id, 1)
        for read in (lambda: self.read(self.repo, self.a, 'vda'),
                     lambda: self.restored(self.a)):
            error = self.assertRaises(exceptions.RepositoryCorrupted, read)
            self.assertIn('disk vda at offset %d: chunk %s'
                          % (offset, chunk_id.hex()), str(error))
            # Both copies are named.
            self.assertEqual(2, str(error).count('damaged in pack'))

    # -- backups ------------------------------------------------------------

    def test_next_backup_restores_a_chunk_whose_copies_are_damaged(self):
        chunk_id, offset, length = self.chunks[4]
        packs = {self.damage(chunk_id, 0), self.damage(chunk_id, 1)}
        report = self.repo.check(deep=True)
        self.assertEqual([self.a, self.b],
                         [a['backup'] for a in report['affected']])
        self.assertEqual([offset], report['affected'][0]['disks'][0][
            'bad_offsets'])
        self.assertEqual(packs, {c['pack'] for c in report['damaged_copies']
                                 if not c['good_copy']})
        # The next backup of the same data stores exactly that chunk again.
        with self.repo.start_backup() as session:
            info = session.write_disk('vda', io.BytesIO(self.data))
            c = session.commit('server-a')
        self.assertEqual(length, info['new_bytes'])
        # Which makes the old backups readable again too.
        self.assertRestorable()
        self.assertEqual(self.data, self.read(self.repo, c, 'vda'))
        report = self.repo.check(deep=True)
        self.assertEqual([], report['affected'])
        self.assertEqual(packs, {c['pack'] for c in report['damaged_copies']
                                 if c['good_copy']})
        # And the repair drops the two damaged copies.
        repaired = self.repo.repair()
        self.assertTrue(repaired['ok'], repaired)
        self.assertEqual(packs, {c['pack']
                                 for c in repaired['dropped_copies']})
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.assertRestorable()

    def test_backup_keeps_deduplicating_against_a_good_copy(self):
        self.damage(self.chunks[1][0], 0)
        self.repo.check(deep=True)
        with self.repo.start_backup() as session:
            info = session.write_disk('vda', io.BytesIO(self.data))
            c = session.commit('server-a')
        self.assertEqual(0, info['new_bytes'])
        self.assertEqual(self.data, self.read(self.repo, c, 'vda'))

    # -- repair -----------------------------------------------------------

    def _repair(self, copy):
        chunk_id = self.chunks[3][0]
        pack_id = self.damage(chunk_id, copy)
        packs_before = {n for n, _ in self.repo.backend.list(
            pack_mod.PREFIX)}
        report = self.repo.repair()
        self.assertTrue(report['ok'], report)
        self.assertEqual([(chunk_id.hex(), pack_id)],
                         [(c['chunk'], c['pack'])
                          for c in report['dropped_copies']])
        self.assertEqual(1, report['packs_rewritten'])
        self.assertEqual([], report['damaged_copies'])
        packs_after = {n for n, _ in self.repo.backend.list(pack_mod.PREFIX)}
        # Only the damaged pack was replaced.
        self.assertEqual({pack_mod.pack_name(pack_id)},
                         packs_before - packs_after)
        self.assertEqual(1, len(packs_after - packs_before))
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.assertEqual([], self.damaged_records())
        index = self.repo.load_index()
        self.assertEqual(1, len(index.locations(chunk_id)))
        for other, _, _ in self.chunks[:3]:
            self.assertEqual(2, len(index.locations(other)))
        self.assertRestorable()
        # The rewritten pack's trailer agrees with the index.
        rebuilt, unreadable = index_mod.rebuild(self.repo.backend,
                                                self.repo.keys)
        self.assertEqual({}, unreadable)
        self.assertEqual(index.packs, rebuilt.packs)

    def test_repair_drops_the_damaged_preferred_copy(self):
        self._repair(0)

    def test_repair_drops_the_damaged_other_copy(self):
        self._repair(1)

    def test_repair_reports_chunks_without_a_good_copy(self):
        chunk_id, offset, _ = self.chunks[6]
        good_chunk = self.chunks[2][0]
        packs = {self.damage(chunk_id, 0), self.damage(chunk_id, 1),
                 self.damage(good_chunk, 0)}
        objects = self.objects()
        report = self.repo.repair()
        self.assertFalse(report['ok'])
        self.assertEqual([chunk_id.hex()], list(report['bad_chunks']))
        self.assertEqual(
            [(self.a, 'vda', [offset]), (self.b, 'vda', [offset])],
            [(a['backup'], d['name'], d['bad_offsets'])
             for a in report['affected'] for d in a['disks']])
        self.assertEqual([good_chunk.hex()],
                         [c['chunk'] for c in report['dropped_copies']])
        self.assertEqual({chunk_id.hex()},
                         {c['chunk'] for c in report['damaged_copies']})
        # The damaged copies without a good one are kept, byte for byte,
        # and stay recorded, so the next backup stores the chunk again.
        kept = {c['pack'] for c in report['damaged_copies']}
        self.assertTrue(kept)
        for pack_id in kept & packs:
            name = pack_mod.pack_name(pack_id)
            self.assertEqual(objects[name], self.repo.backend.get(name))
        self.assertEqual(1, len(self.damaged_records()))
        index = self.repo.load_index()
        self.assertFalse(index.has_good_copy(chunk_id))
        again = self.repo.check(deep=True)
        self.assertEqual(report['affected'], again['affected'])
        self.assertEqual(report['damaged_copies'], again['damaged_copies'])

    def test_repair_after_a_pack_was_deleted(self):
        # The second writer's first pack holds its own chunk and copies of
        # the disk's first chunks.
        self.repo.load_index()
        own = self.repo.keys.chunk_id(b'second writer' * 100)
        pack_id = self.repo.index.lookup(own)[0]
        lost = {c for c, *_ in self.repo.index.packs[pack_id]} - {own}
        self.assertTrue(lost)
        os.unlink(os.path.join(self.path(), *pack_mod.pack_name(
            pack_id).split('/')))
        self.assertRestorable()
        report = self.repo.check(deep=True)
        self.assertEqual([pack_id], report['missing_packs'])
        self.assertEqual([], report['affected'])
        self.assertEqual(lost, {bytes.fromhex(c['chunk'])
                                for c in report['damaged_copies']})
        repaired = self.repo.repair()
        self.assertTrue(repaired['ok'], repaired)
        self.assertEqual(0, repaired['packs_rewritten'])
        self.assertEqual(len(lost), len(repaired['dropped_copies']))
        index = self.repo.load_index()
        self.assertNotIn(pack_id, index.packs)
        self.assertNotIn(own, index)
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.assertRestorable()

    def test_repair_rewrites_a_pack_with_a_damaged_trailer(self):
        pack_id = self.repo.index.lookup(self.chunks[0][0])[0]
        path = os.path.join(self.path(), *pack_mod.pack_name(
            pack_id).split('/'))
        with open(path, 'r+b') as f:
            f.seek(-pack_mod.FOOTER.size - 5, os.SEEK_END)
            f.write(b'\x00\xff')
        report = self.repo.check(deep=True)
        self.assertFalse(report['ok'])
        self.assertEqual([pack_id], list(report['damaged_packs']))
        self.assertEqual([], report['damaged_copies'])
        _, unreadable = index_mod.rebuild(self.repo.backend, self.repo.keys)
        self.assertEqual([pack_mod.pack_name(pack_id)], list(unreadable))
        repaired = self.repo.repair()
        self.assertTrue(repaired['ok'], repaired)
        self.assertEqual(1, repaired['packs_rewritten'])
        # (In a plain repository the pack written again has the bytes, so
        # the name, of the pack before the damage.)
        self.assertEqual(not self.encrypted, os.path.exists(path))
        self.assertTrue(self.repo.check(deep=True)['ok'])
        _, unreadable = index_mod.rebuild(self.repo.backend, self.repo.keys)
        self.assertEqual({}, unreadable)
        self.assertRestorable()

    def test_unreadable_damaged_record_is_only_advice(self):
        self.repo.backend.put(index_mod.DAMAGED_PREFIX + 'f' * 64, b'junk')
        self.assertEqual({}, self.repo.load_index().damaged)
        self.assertIn('unreadable', self.logger.output)
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.assertRestorable()
        self.assertTrue(self.repo.repair()['ok'])
        self.assertEqual([], self.damaged_records())

    def test_repair_needs_the_exclusive_lock(self):
        self.damage(self.chunks[0][0], 1)
        before = self.objects()
        with self.repo.lock(locks.SHARED):
            self.assertRaises(exceptions.RepositoryLocked, self.repo.repair)
        self.assertEqual(before, self.objects())


class EncryptedCopiesTest(CopiesTest):
    encrypted = True


class PruneKeepsTheGoodCopyTest(base.RepositoryTestCase):
    """Prune repacks a pack holding the good copy of a chunk whose other
    copy, in a pack it keeps, is known damaged."""

    def test_prune_copies_the_good_copy(self):
        # Encrypted: in a plain repository the repacked pack can have the
        # bytes, hence the name, of the damaged pack before its damage.
        repo = self.make_repo(encrypted=True)
        pieces = [os.urandom(3000) for _ in range(12)]
        data = b''.join(pieces)
        other = self.open_repo(secret=self.secret)

        def record(session, with_filler):
            lister = session.chunk_list_writer()
            for piece in pieces:
                chunk_id, _ = session.store_chunk(piece)
                lister.add_chunk(chunk_id, len(piece))
                if with_filler:
                    session.store_chunk(os.urandom(3000))
            return session.disk_from_list(
                'vda', len(data), hashlib.sha256(data).hexdigest(), lister)

        # Backup A's packs hold only its chunks; backup B's (written at the
        # same time) hold the same chunks between unreferenced ones.
        with repo.start_backup() as one, other.start_backup() as two:
            one.add_disk(record(one, False))
            a = one.commit('a')
            two.add_disk(record(two, True))
            b = two.commit('b')
        chunk_id = repo.keys.chunk_id(pieces[4])
        index = repo.load_index()
        wanted = {repo.keys.chunk_id(piece) for piece in pieces} | {
            c for backup in (a, b) for c, _, _ in reader.disk_ids(
                repo, repo.show_backup(backup)['disks'][0], set())}
        # A's copy: in a pack without unreferenced chunks.
        damaged, = [loc for loc in index.locations(chunk_id)
                    if all(e[0] in wanted for e in index.packs[loc[0]])]
        path = os.path.join(self.path(), *pack_mod.pack_name(
            damaged[0]).split('/'))
        with open(path, 'r+b') as f:
            f.seek(damaged[1] + 100)
            f.write(b'\x00\xff\x00')
        self.assertEqual([], repo.check(deep=True)['affected'])
        result = repo.prune()
        self.assertGreater(result['packs_repacked'], 0)
        for backup_id in (a, b):
            self.assertEqual(data, self.read(repo, backup_id, 'vda'))
        self.assertEqual([], repo.check(deep=True)['affected'])
