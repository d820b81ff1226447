"""Bad input to every ``repository`` and ``backup`` command: one line on
stderr, exit 2, nothing changed.

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

    def run_cases(self, cases):
        """Run every ``(argv, fragment)``; each must fail with one line
        naming ``fragment``, exit 2, and change nothing."""
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
            self.assertEqual((2, 1), (code, len(lines)),
                             '%s: %s' % (' '.join(argv), err))
            self.assertTrue(lines[0].startswith('ERROR: '), err)
            self.assertIn(fragment, lines[0], ' '.join(argv))
        self.assertEqual(before, self.state())

    def test_counts(self):
        cases = []
        for category in ('repository', 'backup'):
            for option in ('--keep-last', '--keep-hourly', '--keep-daily',
                           '--keep-weekly', '--keep-monthly',
                           '--keep-yearly'):
                for value in ('-1', 'abc'):
                    cases.append(((category, 'prune', '--repository',
                                   self.url, option, value),
                                  "%s '%s' is not a count" % (option,
                                                              value)))
        cases += [
            (('backup', 'prune', '--repository', self.url, '--keep-last',
              '1.5'), "--keep-last '1.5' is not a count"),
            (('backup', 'prune', '--repository', self.url, '--keep-daily',
              ''), "--keep-daily '' is not a count"),
            (('backup', 'prune', '--repository', self.url),
             'no retention rule given'),
        ]
        self.run_cases(cases)

    def test_urls(self):
        commands = [('repository', 'list'), ('repository', 'check'),
                    ('repository', 'stats'), ('repository', 'prune'),
                    ('repository', 'rebuild-index'), ('backup', 'list'),
                    ('backup', 'show', self.backup_id),
                    ('backup', 'delete', self.backup_id),
                    ('backup', 'verify', self.backup_id),
                    ('backup', 'prune', '--keep-last', '1')]
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
                            ('repository', 'list', '--repository',
                             self.url),
                            ('backup', 'show', self.backup_id,
                             '--repository', self.url)):
                cases.append((('--config-file', conf) + command, fragment))
        self.run_cases(cases)
