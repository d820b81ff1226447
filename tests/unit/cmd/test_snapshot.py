"""``snapshot rollback`` options as users type them: bad input is one line
and exit status 2, before any cloud is contacted."""

import os
import subprocess
import sys

import fixtures
import testtools


class RollbackOptionsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # No clouds.yaml at all: reaching for a cloud would be an error of
        # its own, not the one expected.
        self.env = dict(os.environ, XDG_DATA_HOME=self.tmp,
                        OS_CLIENT_CONFIG_FILE=os.path.join(self.tmp, 'none'))
        self.env.pop('OS_CLOUD', None)

    def rollback(self, *argv):
        proc = subprocess.run(
            [sys.executable, '-m', 'backup_flows.cmd.manage', 'snapshot',
             'rollback', 'some-set'] + list(argv),
            capture_output=True, text=True, env=self.env, timeout=60)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertEqual(1, len(lines), proc.stderr)
        self.assertTrue(lines[0].startswith('ERROR: '), proc.stderr)
        return lines[0]

    def test_a_malformed_safety_ttl(self):
        self.assertIn("'soon' is not a duration",
                      self.rollback('--yes', '--safety-ttl', 'soon'))

    def test_a_safety_ttl_without_a_safety_set(self):
        self.assertIn('cannot be combined with --no-safety-snapshot',
                      self.rollback('--yes', '--no-safety-snapshot',
                                    '--safety-ttl', '1h'))

    def test_no_safety_snapshot_still_needs_confirmation(self):
        self.assertIn('--yes', self.rollback('--no-safety-snapshot'))
