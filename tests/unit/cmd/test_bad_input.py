"""Bad input to every ``repository``, ``backup`` and ``snapshot create``
command: one line on stderr, exit 2, nothing changed (the deprecated
aliases: their warning line, then the same error line).

Every case runs ``backup-flows-manage``'s ``main()`` in a process of its
own, as users run it; the processes are forked from one that imported the
CLI once, so a case costs milliseconds instead of a Python start.
"""

import hashlib
import io
import json
import os
import subprocess
import sys

import fixtures
import testtools

from backup_flows.repository import Repository

# Runs each argv of the JSON list argv[1] in a forked child; prints a JSON
# list of [exit status, stderr].
_DRIVER = '''
import json, os, sys, tempfile
from backup_flows.cmd import manage
results = []
for argv in json.loads(sys.argv[1]):
    err = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        os.dup2(err.fileno(), 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        try:
            code = manage.main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 99
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)
    _, status = os.waitpid(pid, 0)
    err.seek(0)
    results.append([os.waitstatus_to_exitcode(status),
                    err.read().decode('utf-8', 'replace')])
print(json.dumps(results))
'''


class BadInputTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.env = dict(os.environ, XDG_DATA_HOME=self.tmp)
        for name in ('OS_CLOUD', 'BACKUP_FLOWS_REPOSITORY_PASSPHRASE'):
            self.env.pop(name, None)
        self.url = os.path.join(self.tmp, 'repo')
        repo = Repository.init(self.url, chunk_size=16 << 10)
        with repo:
            with repo.start_backup() as session:
                session.write_disk('vda', io.BytesIO(os.urandom(50000)))
                self.backup_id = session.commit('srv-a', {})
        self.conf = self.config('[repository]\nchunk_size_kib = 16\n')
        self.plain_file = os.path.join(self.tmp, 'a-file')
        with open(self.plain_file, 'w') as f:
            f.write('not a repository\n')
        os.mkdir(os.path.join(self.tmp, 'a-directory'))

    def config(self, text, name='backup-flows.conf'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def state(self):
        """Every file under the test's directory and its content hash."""
        found = {}
        for root, dirs, files in os.walk(self.tmp):
            for name in dirs + files:
                path = os.path.join(root, name)
                if os.path.isfile(path):
                    with open(path, 'rb') as f:
                        found[path] = hashlib.sha256(f.read()).hexdigest()
                else:
                    found[path] = 'dir'
        return found

    def run_cases(self, cases, deprecated=None):
        """Run every ``(argv, fragment)``; each must fail with one line
        naming ``fragment``, exit 2, and change nothing; a deprecated alias
        (``deprecated``: its old spelling) writes its warning line first."""
        before = self.state()
        proc = subprocess.run(
            [sys.executable, '-c', _DRIVER, json.dumps(
                [['--config-file', self.conf] + list(argv)
                 for argv, _ in cases])],
            capture_output=True, text=True, env=self.env, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        results = json.loads(proc.stdout)
        for (argv, fragment), (code, err) in zip(cases, results,
                                                 strict=True):
            lines = err.strip().splitlines()
            if deprecated:
                self.assertTrue(lines[0].startswith(
                    'WARNING: "backup-flows-manage %s" is deprecated'
                    % deprecated), err)
                lines = lines[1:]
            self.assertEqual((2, 1), (code, len(lines)),
                             '%s: %s' % (' '.join(argv), err))
            self.assertTrue(lines[0].startswith('ERROR: '), err)
            self.assertIn(fragment, lines[0], ' '.join(argv))
        self.assertEqual(before, self.state())

    def count_cases(self, category):
        cases = []
        for option in ('--keep-last', '--keep-hourly', '--keep-daily',
                       '--keep-weekly', '--keep-monthly', '--keep-yearly'):
            for value in ('-1', 'abc'):
                cases.append(((category, 'prune', '--repository', self.url,
                               option, value),
                              "%s '%s' is not a count" % (option, value)))
        return cases

    def test_counts(self):
        cases = self.count_cases('backup')
        cases += [
            (('backup', 'prune', '--repository', self.url, '--keep-last',
              '1.5'), "--keep-last '1.5' is not a count"),
            (('backup', 'prune', '--repository', self.url, '--keep-daily',
              ''), "--keep-daily '' is not a count"),
            (('backup', 'prune', '--repository', self.url),
             'no retention rule given'),
        ]
        self.run_cases(cases)
        self.run_cases(self.count_cases('repository'),
                       deprecated='repository prune')

    def test_quiesce_modes(self):
        fragment = ("--quiesce 'freeze' is not one of: guest-agent, none, "
                    "pause, stop")
        self.run_cases([
            (('backup', 'create', 'srv', '--quiesce', 'freeze',
              '--repository', self.url), fragment),
            (('snapshot', 'create', 'srv', '--quiesce', 'freeze'), fragment),
            (('backup', 'create', 'srv', '--quiesce', '', '--repository',
              self.url), "--quiesce '' is not one of"),
        ])

    def test_restore(self):
        missing = os.path.join(self.tmp, 'a-directory')
        cases = [
            ((self.backup_id, '--repository', ''),
             'the repository URL is empty'),
            ((self.backup_id, '--repository', missing),
             'No backup repository at'),
            (('20200101T000000.000000Z-00000000', '--repository', self.url),
             'Backup 20200101T000000.000000Z-00000000 not found'),
        ]
        self.run_cases([(('backup', 'restore') + argv, fragment)
                        for argv, fragment in cases])
        self.run_cases([(('restore',) + argv, fragment)
                        for argv, fragment in cases], deprecated='restore')

    def test_urls(self):
        commands = [('repository', 'check'), ('repository', 'stats'),
                    ('repository', 'gc'), ('repository', 'gc', '--dry-run'),
                    ('repository', 'rebuild-index'), ('backup', 'list'),
                    ('backup', 'show', self.backup_id),
                    ('backup', 'delete', self.backup_id),
                    ('backup', 'verify', self.backup_id),
                    ('backup', 'prune', '--keep-last', '1'),
                    ('backup', 'restore', self.backup_id)]
        urls = [('ftp://host/backups', "unknown scheme 'ftp'"),
                ('swift:backups', 'a URL is SCHEME://LOCATION'),
                ('swift://', 'swift URL needs a container'),
                ('', 'the repository URL is empty'),
                (self.plain_file, 'is not a directory'),
                (os.path.join(self.tmp, 'a-directory'),
                 'No backup repository at')]
        cases = [(command + ('--repository', url), fragment)
                 for command in commands for url, fragment in urls]
        cases += [(('repository', 'init', url), fragment)
                  for url, fragment in urls[:5]]
        cases += [(('repository', 'init', self.url),
                   'A backup repository already exists')]
        self.run_cases(cases)
        for alias in (('repository', 'list'), ('repository', 'prune')):
            self.run_cases([(alias + ('--repository', url), fragment)
                            for url, fragment in urls],
                           deprecated=' '.join(alias))

    def test_unreadable_key_files(self):
        binary = os.path.join(self.tmp, 'binary')
        with open(binary, 'wb') as f:
            f.write(b'\xff\xfe\x00 not text')
        short = self.config('abcd\n', 'short.key')
        missing = os.path.join(self.tmp, 'missing.key')
        options = [
            ('key_file', missing, 'key_file %s cannot be read: No such file'
             % missing),
            ('key_file', os.path.join(self.tmp, 'a-directory'),
             'cannot be read: Is a directory'),
            ('key_file', short, 'must hold 64 hexadecimal characters'),
            ('key_file', binary, 'cannot be read: not UTF-8 text'),
            ('passphrase_file', missing, 'passphrase_file %s cannot be '
             'read' % missing),
            ('passphrase_file', binary, 'cannot be read: not UTF-8 text'),
        ]
        cases = []
        for number, (option, path, fragment) in enumerate(options):
            conf = self.config('[repository]\n%s = %s\n' % (option, path),
                               'key-%d.conf' % number)
            for command in (('repository', 'init', '--encrypt',
                             os.path.join(self.tmp, 'new-repo')),
                            ('backup', 'list', '--repository', self.url),
                            ('backup', 'show', self.backup_id,
                             '--repository', self.url)):
                cases.append((('--config-file', conf) + command, fragment))
        self.run_cases(cases)
