"""Round trips: what is written is read back bit for bit."""

import io
import os

import hypothesis
from hypothesis import strategies as st

from backup_flows import exceptions

from tests.unit.repository import base

# Pieces of a disk: zero runs, random bytes and repeated patterns.
_piece = st.one_of(
    st.integers(1, 40000).map(bytes),
    st.binary(min_size=1, max_size=20000),
    st.tuples(st.binary(min_size=1, max_size=64),
              st.integers(1, 500)).map(lambda t: t[0] * t[1]),
)
_disk = st.lists(_piece, max_size=12).map(b''.join)


class RoundTripTest(base.RepositoryTestCase):

    def _round_trip(self, encrypted):
        repo = self.make_repo(encrypted=encrypted)

        @hypothesis.settings(max_examples=25, deadline=None, database=None)
        @hypothesis.given(disks=st.lists(_disk, min_size=1, max_size=3))
        def check(disks):
            named = {'disk%d' % i: d for i, d in enumerate(disks)}
            backup_id = self.backup(repo, named)
            for name, data in named.items():
                self.assertEqual(data, self.read(repo, backup_id, name))
                extents = list(repo.iter_extents(backup_id, name))
                self.assertEqual(len(data), sum(e[1] for e in extents))

        check()
        self.assertTrue(repo.check(deep=True)['ok'])

    def test_round_trip_plain(self):
        self._round_trip(encrypted=False)

    def test_round_trip_encrypted(self):
        self._round_trip(encrypted=True)

    def test_reopen_and_restore_sparse_file(self):
        data = bytes(1 << 20) + os.urandom(100000) + bytes(1 << 20)
        repo = self.make_repo(encrypted=True)
        backup_id = self.backup(repo, {'vda': data}, metadata={
            'flavor': 'm1.small', 'networks': ['n1']})
        repo.close()
        repo = self.open_repo(secret=self.secret)
        target = os.path.join(self.tmp, 'restored.img')
        written = repo.restore_disk(backup_id, 'vda', target)
        with open(target, 'rb') as f:
            self.assertEqual(data, f.read())
        self.assertLess(written, len(data) // 4)
        self.assertLess(os.stat(target).st_blocks * 512, len(data) // 2)
        document = repo.show_backup(backup_id)
        self.assertEqual('m1.small', document['metadata']['flavor'])
        disk = document['disks'][0]
        self.assertEqual(len(data), disk['size'])
        zero_run = sum(n for chunk_id, n in self.disk_chunks(repo, backup_id)
                       if chunk_id is None)
        self.assertGreater(zero_run, 1 << 20)
        self.assertEqual(zero_run, disk['zero_bytes'])

    def test_dedup_and_insertion_shift(self):
        repo = self.make_repo()
        data = base.disk_bytes(1, 2 << 20, zeros=0)
        self.backup(repo, {'vda': data})
        before = repo.stats()['stored_bytes']
        shifted = data[:1 << 20] + os.urandom(1234) + data[1 << 20:]
        backup_id = self.backup(repo, {'vda': shifted})
        added = repo.stats()['stored_bytes'] - before
        # Content-defined chunking: only the chunks around the insertion
        # are new, not everything after it.
        self.assertLess(added, 64 << 10)
        self.assertEqual(shifted, self.read(repo, backup_id, 'vda'))

    def test_empty_disk_and_unknown_disk(self):
        repo = self.make_repo()
        backup_id = self.backup(repo, {'empty': b''})
        self.assertEqual(b'', self.read(repo, backup_id, 'empty'))
        self.assertRaises(exceptions.NotFound, self.read, repo, backup_id,
                          'nope')
        self.assertRaises(exceptions.BackupNotFound, repo.show_backup,
                          'nope')

    def test_stream_with_read_only(self):
        class ReadOnly:
            def __init__(self, data):
                self._f = io.BytesIO(data)

            def read(self, n):
                return self._f.read(n)

        repo = self.make_repo()
        data = base.disk_bytes(2, 300000)
        backup_id = self.backup(repo, {'vda': data})
        with repo.start_backup() as session:
            session.write_disk('vda', ReadOnly(data))
            second = session.commit('server-1')
        self.assertEqual(self.read(repo, backup_id, 'vda'),
                         self.read(repo, second, 'vda'))

    def test_list_forget_and_stats(self):
        repo = self.make_repo()
        first = self.backup(repo, {'vda': base.disk_bytes(3, 200000)},
                            server='a')
        second = self.backup(repo, {'vda': base.disk_bytes(4, 200000)},
                             server='b')
        self.assertEqual([first, second],
                         [b['id'] for b in repo.list_backups()])
        self.assertEqual([second],
                         [b['id'] for b in repo.list_backups(server='b')])
        repo.forget([first])
        self.assertEqual([second], [b['id'] for b in repo.list_backups()])
        self.assertRaises(exceptions.BackupNotFound, repo.forget, [first])
        stats = repo.stats()
        self.assertEqual(1, stats['backups'])
        self.assertEqual(200000, stats['logical_bytes'])
        self.assertGreater(stats['stored_bytes'], 0)
