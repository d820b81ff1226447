"""Chunk list objects: the tree format, and repositories using it."""

import hashlib
import io
import json
import os
import random
import shutil

from backup_flows import exceptions
from backup_flows.repository import Policy
from backup_flows.repository import chunk_list
from backup_flows.repository import pack as pack_mod

from tests.unit.repository import base

_DATA = os.path.join(os.path.dirname(__file__), '..', '..', 'data')


class _Store(dict):
    """List objects by id (a hash of their bytes), counting stores."""

    def __init__(self):
        super().__init__()
        self.stores = 0

    def put(self, data):
        self.stores += 1
        list_id = hashlib.sha256(data).digest()
        self[list_id] = data
        return list_id

    def load(self, list_id, offset):
        return self[list_id]


def _entries(seed, count):
    """``count`` entries: chunks with random ids, a zero run now and then."""
    rng = random.Random(seed)
    entries = []
    for _ in range(count):
        if rng.random() < 0.05:
            entries.append((None, rng.randint(1, 1 << 40)))
        else:
            entries.append((rng.randbytes(32), rng.randint(1, 1 << 20)))
    return entries


def _write(store, entries):
    lister = chunk_list.ListWriter(store.put)
    for chunk_id, length in entries:
        if chunk_id is None:
            lister.add_zeros(length)
        else:
            lister.add_chunk(chunk_id, length)
    return lister.finish(), lister


def _merged(entries):
    """``entries`` with adjacent zero runs merged, as lists store them."""
    out = []
    for chunk_id, length in entries:
        if chunk_id is None and out and out[-1][0] is None:
            out[-1] = (None, out[-1][1] + length)
        else:
            out.append((chunk_id, length))
    return out


class ListFormatTest(base.testtools.TestCase):

    def test_round_trip_over_several_levels(self):
        store = _Store()
        entries = _entries(1, 30000)
        root, lister = _write(store, entries)
        size = sum(length for _, length in entries)
        self.assertEqual(_merged(entries),
                         list(chunk_list.iter_chunks(store.load, root, size)))
        self.assertEqual(sum(1 for c, _ in entries if c is not None),
                         lister.chunk_count)
        self.assertEqual(sum(n for c, n in entries if c is None),
                         lister.zero_bytes)
        # About 30 level-0 objects, then their list: two levels.
        self.assertGreater(len(store), 10)
        self.assertLess(len(store), 100)
        kinds = [{kind for kind, _, _, _ in chunk_list.parse(data)}
                 for data in store.values()]
        self.assertEqual(1, sum(1 for k in kinds if k == {chunk_list.LIST}))
        # Every object is compact: about 37 bytes an entry.
        self.assertLess(sum(len(d) for d in store.values()),
                        40 * len(entries))
        self.assertTrue(all(len(d) < 40 * chunk_list.MAX_ENTRIES
                            for d in store.values()))

    def test_unchanged_stretches_give_the_same_objects(self):
        first, second = _Store(), _Store()
        entries = _entries(2, 40000)
        changed = list(entries)
        changed[20000] = (os.urandom(32), 4096)
        _write(first, entries)
        _write(second, changed)
        shared = set(first) & set(second)
        # Only the objects over the changed entry differ (one per level).
        self.assertLessEqual(len(second) - len(shared), 3)

    def test_small_and_empty_disks(self):
        for entries in ([], [(None, 1 << 30)], [(b'\x01' * 32, 10)]):
            store = _Store()
            root, _ = _write(store, entries)
            size = sum(n for _, n in entries)
            self.assertEqual(entries, list(chunk_list.iter_chunks(
                store.load, root, size)))
            self.assertEqual(1, len(store))

    def test_a_long_zero_run_list_is_cut_at_max_entries(self):
        store = _Store()
        # An id with two leading zero bytes forces a cut after it.
        entries = [(b'\x00\x00' + bytes(30), 1), (None, 5)] * 3
        root, _ = _write(store, entries)
        self.assertEqual(_merged(entries), list(chunk_list.iter_chunks(
            store.load, root, 18)))
        self.assertEqual(4, len(store))

    def test_lists_that_do_not_add_up_are_refused(self):
        store = _Store()
        entries = _entries(3, 5000)
        root, _ = _write(store, entries)
        size = sum(n for _, n in entries)
        error = self.assertRaises(chunk_list.ChunkListError, list,
                                  chunk_list.iter_chunks(store.load, root,
                                                         size + 1))
        self.assertIn('covers %d bytes, the disk has %d' % (size, size + 1),
                      str(error))
        # A level-0 object that lost its last entry: its parent disagrees.
        child = next(i for i, d in store.items()
                     if d[len(chunk_list.MAGIC)] != chunk_list.LIST and
                     i != root)
        level = chunk_list._Level()
        for kind, length, count, entry_id in list(chunk_list.parse(
                store[child]))[:-1]:
            level.add(kind, length, count, entry_id)
        store[child] = bytes(level.data)
        error = self.assertRaises(chunk_list.ChunkListError, list,
                                  chunk_list.iter_chunks(store.load, root,
                                                         size))
        self.assertIn('its parent says', str(error))
        self.assertEqual(child, error.chunk_id)

    def test_malformed_objects_are_refused(self):
        for data, reason in ((b'BFCL\x02', 'not a chunk list object'),
                             (b'BFCL\x01\x07\x01', 'unknown entry type 7'),
                             (b'BFCL\x01\x01\x05' + bytes(7),
                              'truncated entry'),
                             (b'BFCL\x01\x00\x80', 'truncated')):
            error = self.assertRaises(
                chunk_list.ChunkListError, list, chunk_list.iter_chunks(
                    lambda list_id, offset, d=data: d, b'\x09' * 32, 0))
            self.assertIn(reason, str(error))
            self.assertEqual(0, error.offset)

    def test_iter_ids_reads_each_object_once(self):
        store = _Store()
        entries = _entries(4, 20000)
        root, _ = _write(store, entries)
        loads = []

        def load(list_id, offset):
            loads.append(list_id)
            return store[list_id]

        seen = set()
        first = list(chunk_list.iter_ids(load, root, seen))
        self.assertEqual(set(store), {i for i, _, is_list in first
                                      if is_list})
        self.assertEqual({c for c, _ in entries if c is not None},
                         {i for i, _, is_list in first if not is_list})
        self.assertEqual([], list(chunk_list.iter_ids(load, root, seen)))
        self.assertEqual(len(store), len(loads))


class ChunkListRepositoryTest(base.RepositoryTestCase):

    def test_the_manifest_and_backup_records_hold_only_ids_and_sizes(self):
        repo = self.make_repo(encrypted=True)
        data = base.disk_bytes(5, 600000)
        with repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(data))
            record = session.disk_record('vda')
            backup_id = session.commit('srv')
        self.assertEqual({'name', 'size', 'sha256', 'chunk_list',
                          'chunk_count', 'zero_bytes'}, set(record))
        self.assertLess(len(json.dumps(record)), 250)
        chunks = self.disk_chunks(repo, backup_id)
        self.assertEqual(record['chunk_count'],
                         sum(1 for c, _ in chunks if c is not None))
        self.assertGreater(record['chunk_count'], 50)
        # The list object is sealed like a chunk: no id in clear.
        packs = b''.join(repo.backend.get(name) for name, _ in
                         repo.backend.list(pack_mod.PREFIX))
        self.assertNotIn(chunks[0][0], packs)
        self.assertEqual(data, self.read(repo, backup_id, 'vda'))

    def test_a_damaged_list_object_is_reported_and_stops_prune(self):
        repo = self.make_repo()
        data = base.disk_bytes(6, 200000)
        backup_id = self.backup(repo, {'vda': data})
        record = repo.show_backup(backup_id)['disks'][0]
        root = bytes.fromhex(record['chunk_list'])
        self.damage(root, repo=repo)
        error = self.assertRaises(exceptions.RepositoryCorrupted, self.read,
                                  repo, backup_id, 'vda')
        self.assertIn('at offset 0: chunk list %s' % root.hex(), str(error))
        report = repo.check(deep=True)
        self.assertFalse(report['ok'])
        disk, = report['affected'][0]['disks']
        self.assertEqual(0, disk['first_bad_offset'])
        self.assertIn('chunk list %s' % root.hex(), disk['chunk_list'])
        self.assertIn(root.hex(), report['bad_chunks'])
        packs = set(repo.backend.list(pack_mod.PREFIX))
        error = self.assertRaises(exceptions.RepositoryCorrupted, repo.prune,
                                  Policy())
        self.assertIn('unreadable chunk lists of backups %s disk vda'
                      % backup_id, str(error))
        self.assertEqual(packs, set(repo.backend.list(pack_mod.PREFIX)))
        self.assertEqual([backup_id], repo.backup_ids())

    def test_copy_rebuilds_the_lists_with_the_target_ids(self):
        source = self.make_repo('source')
        target = self.make_repo('target', encrypted=True)
        data = base.disk_bytes(7, 300000)
        backup_id = self.backup(source, {'vda': data})
        source.copy_backup(backup_id, target)
        disk, = target.show_backup(backup_id)['disks']
        self.assertNotEqual(source.show_backup(backup_id)['disks'][0][
            'chunk_list'], disk['chunk_list'])
        self.assertEqual(data, self.read(target, backup_id, 'vda'))
        self.assertTrue(target.check(deep=True)['ok'])


class VersionOneRepositoryTest(base.RepositoryTestCase):
    """A repository written by the release before chunk list objects
    (tests/data/README.rst) is still read, checked, pruned and extended."""

    def setUp(self):
        super().setUp()
        shutil.copytree(os.path.join(_DATA, 'repository-v1'), self.path())
        with open(os.path.join(_DATA, 'repository-v1.json')) as f:
            self.expected = json.load(f)
        self.repo = self.open_repo(secret=self.secret)

    def check_restores(self):
        for backup_id, disks in self.expected.items():
            for name, sha256 in disks.items():
                self.assertEqual(sha256, hashlib.sha256(self.read(
                    self.repo, backup_id, name)).hexdigest())
                target = os.path.join(self.tmp, name)
                self.repo.restore_disk(backup_id, name, target)
                with open(target, 'rb') as f:
                    self.assertEqual(sha256,
                                     hashlib.sha256(f.read()).hexdigest())

    def test_old_backups_restore_bit_for_bit(self):
        self.assertEqual(sorted(self.expected), self.repo.backup_ids())
        for backup_id in self.expected:
            self.assertIn('chunks',
                          self.repo.show_backup(backup_id)['disks'][0])
        self.check_restores()
        report = self.repo.check(deep=True)
        self.assertTrue(report['ok'], report)

    def test_new_backups_beside_old_ones_and_prune(self):
        old_day2 = sorted(self.expected)[1]
        data = b''.join(self.repo.read_disk(old_day2, 'vda'))
        new_id = self.backup(self.repo, {'vda': data + bytes(8192)})
        self.assertEqual(2, self.repo.show_backup(new_id)['version'])
        # The new backup deduplicates against the old chunks.
        self.assertEqual(data + bytes(8192), self.read(self.repo, new_id,
                                                       'vda'))
        self.repo.prune(Policy())
        self.check_restores()
        self.assertTrue(self.repo.check(deep=True)['ok'])
        # Forgetting the old backups keeps what the new one shares.
        self.repo.forget(sorted(self.expected))
        self.repo.prune(Policy())
        self.assertEqual(data + bytes(8192), self.read(self.repo, new_id,
                                                       'vda'))
        self.assertTrue(self.repo.check(deep=True)['ok'])

    def test_the_documented_reader_reads_old_backups(self):
        from tests.unit.repository import test_format
        documented = test_format._load_reader()
        for backup_id, disks in self.expected.items():
            for name, sha256 in disks.items():
                out = os.path.join(self.tmp, name + '.img')
                documented.main(self.path(), backup_id, name, out,
                                base.PASSPHRASE)
                with open(out, 'rb') as f:
                    self.assertEqual(sha256,
                                     hashlib.sha256(f.read()).hexdigest())
