"""The documented format is the real one: the standalone reader of
doc/source/reference/read_backup.py restores backups bit for bit."""

import importlib.util
import os

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
