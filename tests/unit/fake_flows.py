"""Toy flows for engine tests: each task appends its name to a journal.

Run as a module, runs (or resumes) the toy job in a process of its own, for
the tests that kill it.
"""

import os
import signal
import subprocess
import sys
import time

import fixtures
from taskflow.patterns import linear_flow
import testtools

from backup_flows import conf
from backup_flows.tasks import base

TOY_JOB_ID = '11111111-2222-3333-4444-555555555555'


def _journal(path, line):
    with open(path, 'a') as journal:
        journal.write(line + '\n')
        journal.flush()
        os.fsync(journal.fileno())


class Step(base.BackupFlowsTask):
    """Journals its execution; optionally waits for a file or fails.

    Reversion strategy: journals its revert.
    """

    def execute(self, journal, fail_at=None):
        _journal(journal, 'execute ' + self.name)
        if self.name == os.environ.get('TOY_BLOCK_AT'):
            # Stay here until the test kills the process (or creates the
            # file TOY_RELEASE names).
            release = os.environ.get('TOY_RELEASE')
            for _ in range(600):
                if release and os.path.exists(release):
                    break
                time.sleep(0.1)
        if self.name == fail_at:
            raise RuntimeError('step %s failed' % self.name)
        return self.name

    def revert(self, result, journal, **kwargs):
        _journal(journal, 'revert ' + self.name)


def get_flow(steps, committed=None, best_effort=()):
    """Steps in order; ``committed`` names the point of no return,
    ``best_effort`` the steps whose failure does not fail the flow."""
    flow = linear_flow.Flow('toy')
    for name in steps:
        flow.add(Step(name=name, provides='out-' + name,
                      best_effort=name in best_effort,
                      point_of_no_return=name == committed))
    return flow


class ToyJobTestCase(testtools.TestCase):
    """Toy jobs persisted under a temporary state_path, journaling what
    their tasks do."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        conf.CONF([], project='backup-flows', default_config_files=[])
        conf.CONF.set_override('state_path', self.tmp)
        self.addCleanup(conf.CONF.clear_override, 'state_path')
        self.journal = os.path.join(self.tmp, 'journal')
        self.useFixture(fixtures.MockPatch(
            'backup_flows.plugins.load_flow_factory',
            return_value=get_flow))

    def lines(self):
        if not os.path.exists(self.journal):
            return []
        with open(self.journal) as journal:
            return journal.read().split('\n')[:-1]

    def run_toy(self, **store):
        from backup_flows import engine
        store['journal'] = self.journal
        return engine.run_flow('toy', {'steps': ['one', 'two', 'three']},
                               store)

    def inject(self, option, value):
        conf.CONF.set_override(option, value, group='fault_injection')
        self.addCleanup(conf.CONF.clear_override, option,
                        group='fault_injection')

    def start_toy(self, action, step, *extra):
        """The toy job's process: ``run`` or ``resume`` it, blocking
        inside ``step``."""
        proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.unit.fake_flows', action,
             self.tmp, self.journal, step] + list(extra),
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def wait_for_line(self, line, count=1):
        deadline = time.monotonic() + 30
        while self.lines().count(line) < count:
            self.assertLess(time.monotonic(), deadline, line + ': not run')
            time.sleep(0.05)

    def kill_toy_at(self, step, *extra):
        """Run the toy job in another process; kill -9 it inside step."""
        from backup_flows import engine
        ran = self.lines().count('execute ' + step)
        proc = self.start_toy('run', step, *extra)
        self.wait_for_line('execute ' + step, count=ran + 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertEqual(engine.INTERRUPTED,
                         engine.get_job(TOY_JOB_ID).state)
        return TOY_JOB_ID


def main():
    """Run or resume the toy job in this process: argv = run|resume
    state_path journal block_at [committed]."""
    from unittest import mock

    from backup_flows import engine
    from backup_flows import exceptions

    # this module by its importable name, not __main__: the factory saved
    # in the job's details must be importable by whoever resumes it
    from tests.unit import fake_flows

    action, state_path, journal, os.environ['TOY_BLOCK_AT'] = sys.argv[1:5]
    args = {'steps': ['one', 'two', 'three']}
    if sys.argv[5:]:
        args['committed'] = sys.argv[5]
    conf.CONF([], project='backup-flows', default_config_files=[])
    conf.CONF.set_override('state_path', state_path)
    with mock.patch('backup_flows.plugins.load_flow_factory',
                    return_value=fake_flows.get_flow):
        try:
            if action == 'resume':
                engine.resume_job(TOY_JOB_ID)
            else:
                engine.run_flow('toy', args, {'journal': journal},
                                job_id=TOY_JOB_ID)
        except exceptions.BackupFlowsError as exc:
            sys.stderr.write('%s\n' % exc)
            sys.exit(exc.exit_code)


if __name__ == '__main__':
    main()
