"""restore_disk checks the whole-disk SHA-256 of what it wrote."""

import io
import os

from backup_flows import exceptions

from tests.unit.repository import base


class RestoreDiskChecksumTestCase(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo()
        # zero runs between data: hashed in order with the batches
        self.data = (base.disk_bytes(3, 200 << 10) + bytes(300 << 10) +
                     base.disk_bytes(4, 100 << 10))
        self.good = self.backup(self.repo, {'vda': self.data})
        with self.repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(self.data))
            record = session.disk_record('vda')
            session.release()
        # A manifest whose checksum is not that of its chunks (a writer's
        # bug, or chunks swapped by a damaged chunk list).
        with self.repo.start_backup() as session:
            session.add_disk(dict(record, sha256='0' * 64))
            self.wrong = session.commit('server-1', {})

    def test_good_disk_is_written_sparse_and_whole(self):
        for sparse in (True, False):
            target = os.path.join(self.tmp, 'out-%s' % sparse)
            self.repo.restore_disk(self.good, 'vda', target, sparse=sparse)
            with open(target, 'rb') as f:
                self.assertEqual(self.data, f.read())

    def test_mismatch_fails_and_removes_the_file_it_created(self):
        target = os.path.join(self.tmp, 'out')
        exc = self.assertRaises(exceptions.RepositoryCorrupted,
                                self.repo.restore_disk, self.wrong, 'vda',
                                target)
        self.assertIn("backup %s disk vda at offset %d: the bytes written do "
                      "not have the disk's SHA-256" % (self.wrong,
                                                       len(self.data)),
                      str(exc))
        self.assertFalse(os.path.exists(target))

    def test_mismatch_keeps_a_file_that_existed(self):
        # A device or file named by the caller is not the call's to remove.
        target = os.path.join(self.tmp, 'existing')
        with open(target, 'wb') as f:
            f.write(b'before')
        self.assertRaises(exceptions.RepositoryCorrupted,
                          self.repo.restore_disk, self.wrong, 'vda', target)
        self.assertTrue(os.path.exists(target))

    def test_damaged_chunk_removes_the_file_it_created(self):
        packs = [os.path.join(d, f) for d, _, files in
                 os.walk(os.path.join(self.path(), 'packs')) for f in files]
        for pack in packs:
            with open(pack, 'r+b') as f:
                f.seek(10)
                byte = f.read(1)
                f.seek(10)
                f.write(bytes([byte[0] ^ 1]))
        target = os.path.join(self.tmp, 'out')
        self.assertRaises(exceptions.RepositoryCorrupted,
                          self.repo.restore_disk, self.good, 'vda', target)
        self.assertFalse(os.path.exists(target))
