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

    def command(self, *argv):
        return [sys.executable, '-m', 'backup_flows.cmd.manage'] + list(argv)

    def fault_config(self, fail_before=None, fail_revert=None,
                     hang_before=None):
        """A configuration file setting the [fault_injection] options."""
        path = os.path.join(self.state, 'fault-injection.conf')
        with open(path, 'w') as f:
            f.write('[fault_injection]\n')
            for option, value in (('fail_before_task', fail_before),
                                  ('fail_revert_of_task', fail_revert),
                                  ('hang_before_task', hang_before)):
                if value:
                    f.write('%s = %s\n' % (option, value))
        return path

    def run(self, *argv, fail_before=None, fail_revert=None, timeout=600):
        """Run the CLI; return (exit status, stdout, stderr).

        ``fail_before`` and ``fail_revert`` name the task before which the
        flow fails and the task whose revert fails ([fault_injection]).
        """
        if fail_before or fail_revert:
            argv = ('--config-file',
                    self.fault_config(fail_before, fail_revert)) + argv
        proc = subprocess.run(self.command(*argv), capture_output=True,
                              text=True, env=self.env, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    def json(self, *argv, **kwargs):
        """Run the CLI with --format json; it must succeed."""
        rc, out, err = self.run('--format', 'json', *argv, **kwargs)
        if rc != 0:
            raise AssertionError('%s exited %d: %s' % (' '.join(argv), rc,
                                                       err))
        return json.loads(out)

    def popen(self, *argv, hang_before=None):
        """Start the CLI; ``hang_before`` names a task before which it
        waits (for the test to kill it there)."""
        if hang_before:
            argv = ('--config-file',
                    self.fault_config(hang_before=hang_before)) + argv
        return subprocess.Popen(self.command(*argv), env=self.env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
