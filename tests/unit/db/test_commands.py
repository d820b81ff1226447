"""``backup-flows-manage db sync`` and ``db version``, run through
the console script, in processes of their own."""

import json
import os
import subprocess
import sys

import fixtures
import testtools

from backup_flows.db import migration


class DbCommandsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def config_file(self, text=''):
        """A configuration file of ``text``, state_path in the test's
        directory (never the user's)."""
        self.state = os.path.join(self.tmp, 'state')
        path = os.path.join(self.tmp, 'backup-flows.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n%s' % (self.state, text))
        return path

    def manage(self, *argv):
        """Exit status, stdout and stderr of the command, run in a process
        of its own as users run it (main() registers its command line on
        the global configuration, once per process)."""
        env = dict(os.environ)
        env.pop('OS_CLOUD', None)
        proc = subprocess.run(
            [sys.executable, '-m', 'backup_flows.cmd.manage'] + list(argv),
            capture_output=True, text=True, env=env, cwd=self.tmp,
            timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    def test_sync_is_idempotent_and_version_shows_head(self):
        path = os.path.join(self.tmp, 'catalog.sqlite')
        conf = self.config_file('[database]\nconnection = sqlite:///%s\n'
                                % path)
        head = migration.head()
        status, out, err = self.manage('--config-file', conf, '--format',
                                       'json', 'db', 'sync')
        self.assertEqual(0, status, err)
        self.assertEqual({'previous_version': None, 'version': head},
                         json.loads(out))
        status, out, err = self.manage('--config-file', conf, 'db', 'sync',
                                       '--format', 'json')
        self.assertEqual(0, status, err)
        self.assertEqual({'previous_version': head, 'version': head},
                         json.loads(out))
        status, out, err = self.manage('--config-file', conf, 'db',
                                       'version')
        self.assertEqual(0, status, err)
        self.assertIn('| version | %s |' % head, out)
        self.assertIn('| head    | %s |' % head, out)
        self.assertTrue(os.path.exists(path))

    def test_default_database_is_under_state_path(self):
        conf = self.config_file()
        status, _, err = self.manage('--config-file', conf, 'db', 'sync')
        self.assertEqual(0, status, err)
        self.assertTrue(os.path.exists(os.path.join(
            self.state, 'backup-flows.sqlite')))
        self.assertEqual(0o700, os.stat(self.state).st_mode & 0o777)

    def test_version_of_a_new_database_is_none(self):
        status, out, err = self.manage('--config-file', self.config_file(),
                                       '--format', 'json', 'db', 'version')
        self.assertEqual(0, status, err)
        self.assertEqual({'version': None, 'head': migration.head()},
                         json.loads(out))

    def test_unusable_database_is_exit_1_and_one_line(self):
        conf = self.config_file('[database]\nconnection = '
                                'sqlite:////proc/no-such/catalog.sqlite\n')
        status, out, err = self.manage('--config-file', conf, 'db', 'sync')
        self.assertEqual(1, status)
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertTrue(lines[0].startswith(
            'ERROR: The service database sqlite:////proc/no-such/'), err)
        self.assertEqual('', out)
