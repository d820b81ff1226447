"""Runs ``backup-flows-manage`` as users do, against the minicloud."""

import json
import os
import subprocess
import sys

import fixtures

from tests.functional import minicloud as mc


class ManageFixture(fixtures.Fixture):
    """A ``backup-flows-manage`` with its own state_path (flow database),
    on the minicloud's clouds.yaml or on ``clouds_yaml`` (a test's own
    project, see ``minicloud.ProjectFixture``)."""

    def __init__(self, clouds_yaml=None):
        super().__init__()
        self.clouds_yaml = clouds_yaml

    def _setUp(self):
        self.state = self.useFixture(fixtures.TempDir()).path
        self.env = dict(os.environ,
                        OS_CLIENT_CONFIG_FILE=(self.clouds_yaml or
                                               mc.clouds_yaml()),
                        OS_CLOUD='minicloud',
                        XDG_DATA_HOME=self.state)
        self.env.pop('BACKUP_FLOWS_FAIL_BEFORE_TASK', None)

    def command(self, *argv):
        return [sys.executable, '-m', 'backup_flows.cmd.manage'] + list(argv)

    def run(self, *argv, fail_before=None, timeout=600):
        """Run the CLI; return (exit status, stdout, stderr)."""
        env = dict(self.env)
        if fail_before:
            env['BACKUP_FLOWS_FAIL_BEFORE_TASK'] = fail_before
        proc = subprocess.run(self.command(*argv), capture_output=True,
                              text=True, env=env, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    def json(self, *argv, **kwargs):
        """Run the CLI with --format json; it must succeed."""
        rc, out, err = self.run('--format', 'json', *argv, **kwargs)
        if rc != 0:
            raise AssertionError('%s exited %d: %s' % (' '.join(argv), rc,
                                                       err))
        return json.loads(out)

    def popen(self, *argv):
        return subprocess.Popen(self.command(*argv), env=self.env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
