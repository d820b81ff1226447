"""Corruption: damage is reported exactly and never read back as data."""

import os

from backup_flows import exceptions
from backup_flows.repository import index as index_mod
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import pack as pack_mod

from tests.unit.repository import base


class CorruptionTest(base.RepositoryTestCase):
    """Backup A (server a, disks vda and vdb) and backup B (server b, vda)
    hold distinct data, so each pack and index file belongs to one disk."""

    encrypted = False

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo(encrypted=self.encrypted)
        self.data = {('a', 'vda'): base.disk_bytes(10, 200000),
                     ('a', 'vdb'): base.disk_bytes(11, 200000),
                     ('b', 'vda'): base.disk_bytes(12, 200000)}
        self.ids = {
            'a': self.backup(self.repo, {'vda': self.data['a', 'vda'],
                                         'vdb': self.data['a', 'vdb']},
                             server='a'),
            'b': self.backup(self.repo, {'vda': self.data['b', 'vda']},
                             server='b'),
        }
        self.assertTrue(self.repo.check(deep=True)['ok'])

    def file(self, name):
        return os.path.join(self.path(), *name.split('/'))

    def location(self, backup, disk, nth=0):
        """(pack id, offset, length) of the nth stored chunk of a disk."""
        chunks = [c for c, _ in self.disk_chunks(self.repo, self.ids[backup],
                                                 disk) if c is not None]
        return self.repo.index.lookup(chunks[nth])[:3]

    def assertAffected(self, report, expected):
        """``expected``: {backup key: [disk names]} or None (manifest)."""
        got = {}
        for item in report['affected']:
            got[item['backup']] = ([d['name'] for d in item['disks']]
                                   if not item.get('manifest') else None)
        self.assertEqual({self.ids[k]: v for k, v in expected.items()}, got)

    def assertUnreadable(self, backup, disk):
        """Reading fails clearly; the bytes yielded before the failure are
        a prefix of the disk: never a wrong byte."""
        got = bytearray()
        error = self.assertRaises(exceptions.RepositoryCorrupted,
                                  self._read_into, got, backup, disk)
        self.assertIn(self.ids[backup], str(error))
        self.assertIn('check --deep', str(error))
        expected = self.data[backup, disk]
        self.assertLess(len(got), len(expected))
        self.assertEqual(expected[:len(got)], bytes(got))
        target = os.path.join(self.tmp, 'restored')
        self.assertRaises(exceptions.RepositoryCorrupted,
                          self.repo.restore_disk, self.ids[backup], disk,
                          target)
        return error

    def _read_into(self, got, backup, disk):
        for data in self.repo.read_disk(self.ids[backup], disk):
            got += data

    def assertReadable(self, *keys):
        for backup, disk in keys:
            self.assertEqual(self.data[backup, disk],
                             self.read(self.repo, self.ids[backup], disk))

    def test_flipped_byte_in_a_pack(self):
        pack_id, offset, length = self.location('a', 'vdb', nth=1)
        with open(self.file(pack_mod.pack_name(pack_id)), 'r+b') as f:
            f.seek(offset + length // 2)
            byte = f.read(1)
            f.seek(offset + length // 2)
            f.write(bytes([byte[0] ^ 0x40]))
        quick = self.repo.check()
        self.assertTrue(quick['ok'])  # sizes are right: only deep sees it
        report = self.repo.check(deep=True)
        self.assertFalse(report['ok'])
        self.assertAffected(report, {'a': ['vdb']})
        self.assertEqual(1, report['affected'][0]['disks'][0]['bad_chunks'])
        self.assertIn(pack_id, report['damaged_packs'])
        error = self.assertUnreadable('a', 'vdb')
        self.assertIn('damaged in pack %s' % pack_id, str(error))
        self.assertReadable(('a', 'vda'), ('b', 'vda'))

    def test_deleted_pack(self):
        pack_id, _, _ = self.location('b', 'vda')
        os.unlink(self.file(pack_mod.pack_name(pack_id)))
        report = self.repo.check()
        self.assertFalse(report['ok'])
        self.assertEqual([pack_id], report['missing_packs'])
        self.assertAffected(report, {'b': ['vda']})
        self.assertAffected(self.repo.check(deep=True), {'b': ['vda']})
        error = self.assertUnreadable('b', 'vda')
        self.assertIn('pack %s is missing' % pack_id, str(error))
        self.assertReadable(('a', 'vda'), ('a', 'vdb'))

    def test_truncated_pack(self):
        pack_id, offset, _ = self.location('a', 'vda', nth=2)
        os.truncate(self.file(pack_mod.pack_name(pack_id)), offset + 3)
        report = self.repo.check()
        self.assertFalse(report['ok'])
        self.assertAffected(report, {'a': ['vda']})
        self.assertUnreadable('a', 'vda')
        self.assertReadable(('a', 'vdb'), ('b', 'vda'))

    def test_truncated_index_then_rebuild(self):
        pack_id, _, _ = self.location('a', 'vda')
        name = [n for n, packs in self.repo.index.files.items()
                if pack_id in packs][0]
        path = self.file(name)
        os.truncate(path, os.path.getsize(path) // 2)
        report = self.repo.check()
        self.assertFalse(report['ok'])
        self.assertEqual([name], list(report['index_errors']))
        self.assertAffected(report, {'a': ['vda']})
        error = self.assertUnreadable('a', 'vda')
        self.assertIn('not in the index', str(error))
        self.assertReadable(('a', 'vdb'), ('b', 'vda'))
        # The index is redundant with the pack trailers.
        result = self.repo.rebuild_index()
        self.assertEqual({}, result['unreadable_packs'])
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.assertReadable(('a', 'vda'), ('a', 'vdb'), ('b', 'vda'))
        self.assertEqual(1, len(list(self.repo.backend.list(
            index_mod.PREFIX))))

    def test_damaged_manifest(self):
        path = self.file(manifest_mod.object_name(self.ids['b']))
        with open(path, 'r+b') as f:
            f.seek(5)
            byte = f.read(1)
            f.seek(5)
            f.write(bytes([byte[0] ^ 1]))
        report = self.repo.check()
        self.assertFalse(report['ok'])
        self.assertAffected(report, {'b': None})
        self.assertEqual([self.ids['b']], list(report['damaged_manifests']))
        listed = {b['id']: b for b in self.repo.list_backups()}
        self.assertIn('error', listed[self.ids['b']])
        error = self.assertRaises(exceptions.RepositoryCorrupted, self.read,
                                  self.repo, self.ids['b'], 'vda')
        self.assertIn('manifest of backup %s is damaged' % self.ids['b'],
                      str(error))
        self.assertReadable(('a', 'vda'), ('a', 'vdb'))
        # Prune would collect the data of the damaged backup: it refuses
        # and changes nothing.
        before = self.objects()
        self.assertRaises(exceptions.RepositoryCorrupted, self.repo.prune)
        self.assertEqual(before, self.objects())

    def test_manifest_of_another_backup_is_rejected(self):
        # Swapping manifests (e.g. restoring an old one under a new name)
        # is detected: the manifest is bound to its backup id.
        src = self.file(manifest_mod.object_name(self.ids['a']))
        dst = self.file(manifest_mod.object_name(self.ids['b']))
        with open(src, 'rb') as f, open(dst, 'wb') as g:
            g.write(f.read())
        self.assertAffected(self.repo.check(), {'b': None})


class EncryptedCorruptionTest(CorruptionTest):
    encrypted = True
