"""The documented format is the real one: the standalone reader of
doc/source/reference/read_backup.py restores backups bit for bit."""

import importlib.util
import os

from backup_flows.repository import Secret
from backup_flows.repository import pack as pack_mod

from tests.unit.repository import base

_READER = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'doc',
                       'source', 'reference', 'read_backup.py')


def _load_reader():
    spec = importlib.util.spec_from_file_location('read_backup', _READER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class DocumentedFormatTest(base.RepositoryTestCase):

    def _check(self, encrypted):
        reader = _load_reader()
        repo = self.make_repo(encrypted=encrypted)
        data = {'vda': base.disk_bytes(80, 300000),
                'vdb': bytes(100000) + base.disk_bytes(81, 50000)}
        self.backup(repo, {'vda': data['vda'][:100000]})
        backup_id = self.backup(repo, data)
        passphrase = base.PASSPHRASE if encrypted else None
        for name, expected in data.items():
            out = os.path.join(self.tmp, name + '.img')
            reader.main(self.path(), backup_id, name, out, passphrase)
            with open(out, 'rb') as f:
                self.assertEqual(expected, f.read())
        # Pack trailers as documented hold the same entries as the index.
        keys = reader.Keys(self.path(), repo.config, passphrase)
        index = repo.load_index()
        for name, _ in repo.backend.list(pack_mod.PREFIX):
            pack_id = pack_mod.pack_id_from_name(name)
            entries = reader.pack_entries(repo.backend.get(name), keys)
            self.assertEqual(index.packs[pack_id], entries)

    def test_plain(self):
        self._check(encrypted=False)

    def test_encrypted(self):
        self._check(encrypted=True)

    def test_encrypted_with_a_raw_key(self):
        raw_key = bytes(range(32))
        self.secret = Secret(raw_key=raw_key)
        reader = _load_reader()
        repo = self.make_repo(encrypted=True)
        data = base.disk_bytes(82, 100000)
        backup_id = self.backup(repo, {'vda': data})
        out = os.path.join(self.tmp, 'vda.img')
        reader.main(self.path(), backup_id, 'vda', out, raw_key.hex())
        with open(out, 'rb') as f:
            self.assertEqual(data, f.read())

    def test_a_damaged_copy_is_skipped_for_another(self):
        reader = _load_reader()
        repo = self.make_repo()
        self.backup(repo, {'vda': base.disk_bytes(83, 100000)})
        keys = reader.Keys(self.path(), repo.config, None)
        index = reader.load_index(self.path(), keys)
        chunk_id, copies = next(iter(index.items()))
        pack_id, offset, length, raw = copies[0]
        # a second, damaged copy listed first: the reader falls back
        damaged = os.path.join(self.tmp, 'repo', 'packs', 'ff', 'ff' * 32)
        os.makedirs(os.path.dirname(damaged))
        with open(damaged, 'wb') as f:
            f.write(bytes(offset + length))
        index[chunk_id] = [('ff' * 32, offset, length, raw)] + copies
        self.assertEqual(
            len(reader.read_chunk(self.path(), keys, chunk_id, index[chunk_id],
                                  raw)), raw)
        self.assertRaises(ValueError, reader.read_chunk, self.path(), keys,
                          chunk_id, index[chunk_id][:1], raw)
