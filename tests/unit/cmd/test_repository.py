"""``backup-flows-manage repository ...`` as users run it."""

import io
import json
import os
import subprocess
import sys

import fixtures
import testtools

from backup_flows.repository import Repository
from backup_flows.repository import Secret
from backup_flows.repository import config as config_mod
from backup_flows.repository import manifest as manifest_mod

PASSPHRASE = 'cli test passphrase'


class RepositoryCommandsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.env = dict(os.environ, XDG_DATA_HOME=self.tmp)
        for name in ('OS_CLOUD', 'BACKUP_FLOWS_REPOSITORY_PASSPHRASE'):
            self.env.pop(name, None)
        self.url = os.path.join(self.tmp, 'repo')
        # Fast scrypt and small chunks through a config file.
        self.conf = os.path.join(self.tmp, 'backup-flows.conf')
        with open(self.conf, 'w') as f:
            f.write('[repository]\nchunk_size_kib = 16\npack_size_mib = 1\n')

    def manage(self, *argv, env=None):
        proc = subprocess.run(
            [sys.executable, '-m', 'backup_flows.cmd.manage',
             '--config-file', self.conf] + list(argv),
            capture_output=True, text=True, env=env or self.env, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def assertOneLineError(self, stderr, *fragments):
        lines = stderr.strip().splitlines()
        self.assertEqual(1, len(lines), stderr)
        self.assertTrue(lines[0].startswith('ERROR: '), stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def backup(self, url, server, data, secret=None):
        repo = Repository.open(url, secret=secret)
        with repo:
            with repo.start_backup() as session:
                session.write_disk('vda', io.BytesIO(data))
                return session.commit(server, {'flavor': 'm1.small'})

    def make_plain_repo(self):
        repo = Repository.init(self.url, chunk_size=16 << 10)
        repo.close()
        return self.url

    def test_init_plain_then_list_stats_check_json(self):
        rc, out, err = self.manage('repository', 'init', self.url,
                                   '--format', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual('', err)
        created = json.loads(out)
        self.assertEqual('none', created['encryption'])
        self.assertEqual(16 << 10, created['chunk_size'])
        first = self.backup(self.url, 'srv-a', os.urandom(100000) +
                            bytes(200000))
        second = self.backup(self.url, 'srv-b', os.urandom(50000))
        rc, out, _ = self.manage('backup', 'list', '--repository',
                                 self.url, '--format', 'json')
        self.assertEqual(0, rc)
        self.assertEqual([first, second], [b['id'] for b in json.loads(out)])
        rc, out, _ = self.manage('backup', 'list', '--repository', self.url)
        self.assertEqual(0, rc)
        self.assertIn(second, out)
        self.assertIn('srv-a', out)
        rc, out, _ = self.manage('--format', 'json', 'repository', 'stats',
                                 '--repository', self.url)
        stats = json.loads(out)
        self.assertEqual(2, stats['backups'])
        self.assertEqual(350000, stats['logical_bytes'])
        rc, out, err = self.manage('repository', 'check', '--deep',
                                   '--repository', self.url, '--format',
                                   'json')
        self.assertEqual(0, rc, err)
        report = json.loads(out)
        self.assertTrue(report['ok'])
        self.assertTrue(report['deep'])

    def test_init_encrypted_needs_a_secret_never_an_argument(self):
        rc, _, err = self.manage('repository', 'init', self.url, '--encrypt')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'needs a passphrase')
        self.assertFalse(os.path.exists(os.path.join(self.url, 'config')))
        passfile = os.path.join(self.tmp, 'pass')
        with open(passfile, 'w') as f:
            f.write(PASSPHRASE + '\n')
        with open(self.conf, 'a') as f:
            f.write('passphrase_file = %s\n' % passfile)
        rc, out, err = self.manage('repository', 'init', self.url,
                                   '--encrypt')
        self.assertEqual(0, rc, err)
        self.assertIn('aes-256-gcm', out)
        self.assertIn('keys/key', err)  # the key backup warning
        backup_id = self.backup(self.url, 'srv', os.urandom(30000),
                                Secret(passphrase=PASSPHRASE))
        rc, out, err = self.manage('backup', 'list', '--repository',
                                   self.url)
        self.assertEqual(0, rc, err)
        self.assertIn(backup_id, out)
        # The environment variable is used when the config has no secret.
        with open(self.conf, 'w') as f:
            f.write('[repository]\n')
        env = dict(self.env, BACKUP_FLOWS_REPOSITORY_PASSPHRASE='wrong')
        rc, _, err = self.manage('backup', 'list', '--repository',
                                 self.url, env=env)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'wrong passphrase or key')
        rc, _, err = self.manage('backup', 'list', '--repository',
                                 self.url)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'encrypted', 'passphrase_file')
        env['BACKUP_FLOWS_REPOSITORY_PASSPHRASE'] = PASSPHRASE
        rc, out, _ = self.manage('backup', 'list', '--repository',
                                 self.url, env=env)
        self.assertEqual(0, rc)
        self.assertIn(backup_id, out)

    def test_missing_foreign_and_newer_repositories(self):
        rc, _, err = self.manage('repository', 'check')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'No backup repository at %s'
                                % os.path.join(self.tmp, 'backup-flows',
                                               'repository'))
        foreign = os.path.join(self.tmp, 'foreign')
        os.makedirs(foreign)
        with open(os.path.join(foreign, 'config'), 'w') as f:
            f.write('[repository]\nversion = 1\n')  # a borg repository
        rc, _, err = self.manage('repository', 'stats', '--repository',
                                 foreign)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'not a backup-flows repository')
        rc, _, err = self.manage('repository', 'init', foreign)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'not a backup-flows repository')
        self.make_plain_repo()
        path = os.path.join(self.url, config_mod.OBJECT)
        with open(path) as f:
            document = json.load(f)
        document['version'] = config_mod.VERSION + 1
        with open(path, 'w') as f:
            json.dump(document, f)
        rc, _, err = self.manage('backup', 'list', '--repository',
                                 'file://' + self.url)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'format version %d'
                                % (config_mod.VERSION + 1),
                                'Upgrade backup-flows')
        rc, _, err = self.manage('repository', 'init', self.url)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'already exists')

    def test_check_reports_damage_and_exits_1(self):
        self.make_plain_repo()
        good = self.backup(self.url, 'srv-a', os.urandom(40000))
        bad = self.backup(self.url, 'srv-b', os.urandom(40000))
        path = os.path.join(self.url, *manifest_mod.object_name(
            bad).split('/'))
        with open(path, 'r+b') as f:
            f.seek(10)
            f.write(b'\xff')
        rc, out, err = self.manage('repository', 'check', '--repository',
                                   self.url)
        self.assertEqual(1, rc)
        self.assertOneLineError(err, 'damaged', '1 backups affected')
        self.assertIn('%s: manifest unreadable' % bad, out)
        self.assertNotIn(good, out)
        rc, out, _ = self.manage('backup', 'list', '--repository',
                                 self.url, '--format', 'json')
        listed = {b['id']: b for b in json.loads(out)}
        self.assertIn('error', listed[bad])
        self.assertNotIn('error', listed[good])

    def test_damaged_index_is_rebuilt(self):
        self.make_plain_repo()
        backup_id = self.backup(self.url, 'srv', os.urandom(40000))
        index_dir = os.path.join(self.url, 'index')
        for name in os.listdir(index_dir):
            os.truncate(os.path.join(index_dir, name), 10)
        rc, out, err = self.manage('repository', 'check', '--repository',
                                   self.url)
        self.assertEqual(1, rc)
        self.assertOneLineError(err, '1 backups affected',
                                'repository rebuild-index')
        self.assertIn(backup_id, out)
        rc, out, err = self.manage('repository', 'rebuild-index',
                                   '--repository', self.url, '--format',
                                   'json')
        self.assertEqual(0, rc, err)
        self.assertEqual({}, json.loads(out)['unreadable_packs'])
        rc, _, err = self.manage('repository', 'check', '--deep',
                                 '--repository', self.url)
        self.assertEqual(0, rc, err)

    def test_prune_dry_run_then_for_real(self):
        self.make_plain_repo()
        ids = [self.backup(self.url, 'srv', os.urandom(30000))
               for _ in range(3)]
        other = self.backup(self.url, 'other', os.urandom(30000))
        rc, out, err = self.manage('backup', 'prune', '--keep-last', '1',
                                   '--dry-run', '--repository', self.url,
                                   '--format', 'json')
        self.assertEqual(0, rc, err)
        result = json.loads(out)
        self.assertTrue(result['dry_run'])
        self.assertEqual(ids[:2], result['forgotten'])
        self.assertEqual({ids[2], other}, set(result['kept']))
        rc, out, _ = self.manage('backup', 'list', '--repository',
                                 self.url, '--format', 'json')
        self.assertEqual(4, len(json.loads(out)))
        rc, out, err = self.manage('backup', 'prune', '--keep-last', '1',
                                   '--repository', self.url)
        self.assertEqual(0, rc, err)
        self.assertIn('forgotten', out)
        rc, out, _ = self.manage('backup', 'list', '--repository',
                                 self.url, '--format', 'json')
        self.assertEqual([ids[2], other], [b['id'] for b in json.loads(out)])
        rc, _, err = self.manage('backup', 'prune', '--keep-daily', '-1',
                                 '--repository', self.url)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, "'-1' is not a count")

    def test_gc_collects_unused_data_and_forgets_no_backup(self):
        with open(self.conf, 'a') as f:
            f.write('prune_grace = 0\n')
        self.make_plain_repo()
        kept = self.backup(self.url, 'srv', os.urandom(30000))
        gone = self.backup(self.url, 'srv', os.urandom(30000))
        with Repository.open(self.url) as repo:
            repo.forget([gone])
        packs = os.path.join(self.url, 'packs')
        before = sum(len(files) for _, _, files in os.walk(packs))
        rc, out, err = self.manage('repository', 'gc', '--dry-run',
                                   '--repository', self.url, '--format',
                                   'json')
        self.assertEqual(0, rc, err)
        self.assertEqual([], json.loads(out)['forgotten'])
        self.assertEqual(before, sum(len(files)
                                     for _, _, files in os.walk(packs)))
        rc, out, err = self.manage('repository', 'gc', '--repository',
                                   self.url, '--format', 'json')
        self.assertEqual(0, rc, err)
        result = json.loads(out)
        self.assertEqual(([], 1), (result['forgotten'],
                                   result['packs_deleted']))
        self.assertEqual(before - 1, sum(len(files)
                                         for _, _, files in os.walk(packs)))
        rc, out, _ = self.manage('backup', 'list', '--repository', self.url,
                                 '--format', 'json')
        self.assertEqual([kept], [b['id'] for b in json.loads(out)])
        rc, _, err = self.manage('repository', 'check', '--deep',
                                 '--repository', self.url)
        self.assertEqual(0, rc, err)

    def test_deprecated_list_and_prune(self):
        self.make_plain_repo()
        ids = [self.backup(self.url, 'srv', os.urandom(30000))
               for _ in range(2)]
        rc, out, err = self.manage('repository', 'list', '--repository',
                                   self.url, '--format', 'json')
        self.assertEqual(0, rc, err)
        self.assertIn('manage repository list" is deprecated', err)
        self.assertIn('use "backup-flows-manage backup list"', err)
        self.assertEqual(ids, [b['id'] for b in json.loads(out)])
        # without --keep-*: what it did before, collect garbage only
        rc, out, err = self.manage('repository', 'prune', '--repository',
                                   self.url, '--format', 'json')
        self.assertEqual(0, rc, err)
        self.assertIn('use "backup-flows-manage repository gc"', err)
        self.assertEqual([], json.loads(out)['forgotten'])
        rc, out, err = self.manage('repository', 'prune', '--keep-last', '1',
                                   '--repository', self.url, '--format',
                                   'json')
        self.assertEqual(0, rc, err)
        self.assertIn('use "backup-flows-manage backup prune"', err)
        self.assertEqual(ids[:1], json.loads(out)['forgotten'])

    def test_verify_json_reports_the_problems_of_a_damaged_backup(self):
        self.make_plain_repo()
        backup_id = self.backup(self.url, 'srv', os.urandom(40000))
        for root, _, files in os.walk(os.path.join(self.url, 'packs')):
            for name in files:
                os.remove(os.path.join(root, name))
        rc, out, err = self.manage('backup', 'verify', backup_id,
                                   '--repository', self.url, '--format',
                                   'json')
        self.assertEqual(1, rc, err)
        # the engine logs the job's start and its failure
        [line] = [line for line in err.splitlines()
                  if line.startswith('ERROR: ')]
        self.assertIn('Backup %s is damaged' % backup_id, line)
        report = json.loads(out)
        self.assertEqual(line, 'ERROR: ' + report['error'])
        self.assertEqual((1, backup_id, False, False),
                         (report['exit_code'], report['id'], report['ok'],
                          report['deep']))
        self.assertEqual({'vda'}, {p['disk'] for p in report['problems']})
        # without --format json: the error line only
        rc, out, err = self.manage('backup', 'verify', backup_id,
                                   '--repository', self.url)
        self.assertEqual((1, ''), (rc, out))
        self.assertIn('ERROR: Backup %s is damaged' % backup_id, err)
