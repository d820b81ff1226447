"""``backup-flows-manage repository check --deep / --repair`` on a file
repository whose chunks are stored twice."""

import io
import json
import os
import subprocess
import sys

import fixtures
import testtools

from backup_flows.repository import Repository
from backup_flows.repository import pack as pack_mod

from tests.unit.repository import base


class CheckRepairCommandTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.env = dict(os.environ, XDG_DATA_HOME=self.tmp)
        for name in ('OS_CLOUD', 'BACKUP_FLOWS_REPOSITORY_PASSPHRASE'):
            self.env.pop(name, None)
        self.url = os.path.join(self.tmp, 'repo')
        self.conf = os.path.join(self.tmp, 'backup-flows.conf')
        with open(self.conf, 'w') as f:
            f.write('[repository]\n')

    def manage(self, *argv):
        proc = subprocess.run(
            [sys.executable, '-m', 'backup_flows.cmd.manage',
             '--config-file', self.conf] + list(argv) +
            ['--repository', self.url],
            capture_output=True, text=True, env=self.env, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def test_deep_check_names_the_damaged_copy_and_repair_drops_it(self):
        Repository.init(self.url, chunk_size=base.CHUNK).close()
        data = base.disk_bytes(40, 60000, zeros=0)
        one = Repository.open(self.url)
        two = Repository.open(self.url)
        self.addCleanup(one.close)
        self.addCleanup(two.close)
        with one.start_backup() as first, two.start_backup() as second:
            first.write_disk('vda', io.BytesIO(data))
            first.commit('srv-a')
            second.store_chunk(b'second writer' * 100)
            second.write_disk('vda', io.BytesIO(data))
            second.commit('srv-b')
        index = one.load_index()
        chunk_id = next(c for c in index.chunks
                        if len(index.locations(c)) == 2)
        pack_id, offset, length, _ = index.locations(chunk_id)[1]
        path = os.path.join(self.url, *pack_mod.pack_name(pack_id).split('/'))
        with open(path, 'r+b') as f:
            f.seek(offset + length // 2)
            f.write(b'\x00\xff')

        rc, out, err = self.manage('repository', 'check', '--deep')
        self.assertEqual(1, rc, err)
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertIn('0 backups affected', lines[0])
        self.assertIn('1 damaged copies have a good copy', lines[0])
        self.assertIn('check --repair', lines[0])
        self.assertIn('chunk %s in pack %s' % (chunk_id.hex(), pack_id), out)

        rc, out, err = self.manage('repository', 'check', '--repair',
                                   '--format', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual('', err)
        report = json.loads(out)
        self.assertEqual([(chunk_id.hex(), pack_id)],
                         [(c['chunk'], c['pack'])
                          for c in report['dropped_copies']])
        self.assertEqual(1, report['packs_rewritten'])
        self.assertFalse(os.path.exists(path))

        with Repository.open(self.url) as repo:
            self.assertTrue(repo.check(deep=True)['ok'])
            for backup_id in repo.backup_ids():
                self.assertEqual(data, b''.join(repo.read_disk(backup_id,
                                                               'vda')))
