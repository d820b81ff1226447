import os
import signal
import subprocess
import sys
import time
from unittest import mock

import fixtures
import testtools

from backup_flows import conf
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import faults

from tests.unit import fake_flows

CONF = conf.CONF


class EngineTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        CONF([], project='backup-flows', default_config_files=[])
        CONF.set_override('state_path', self.tmp)
        self.addCleanup(CONF.clear_override, 'state_path')
        self.journal = os.path.join(self.tmp, 'journal')
        self.useFixture(fixtures.MockPatch(
            'backup_flows.plugins.load_flow_factory',
            return_value=fake_flows.get_flow))

    def lines(self):
        with open(self.journal) as journal:
            return journal.read().split('\n')[:-1]

    def run_toy(self, **store):
        store['journal'] = self.journal
        return engine.run_flow('toy', {'steps': ['one', 'two', 'three']},
                               store)

    def test_run_persists_a_successful_job(self):
        job_id, result = self.run_toy()
        self.assertEqual('three', result['out-three'])
        self.assertEqual(['execute one', 'execute two', 'execute three'],
                         self.lines())
        job = engine.get_job(job_id)
        self.assertEqual('SUCCESS', job.state)
        self.assertEqual({'steps': ['one', 'two', 'three']},
                         job.to_dict()['args'])
        self.assertEqual([job_id], [j.id for j in engine.list_jobs()])

    def test_failure_reverts_finished_tasks_in_reverse_order(self):
        error = self.assertRaises(exceptions.FlowFailed, self.run_toy,
                                  fail_at='three')
        self.assertIn('step three failed', str(error))
        self.assertEqual(['execute one', 'execute two', 'execute three',
                          'revert three', 'revert two', 'revert one'],
                         self.lines())
        job = engine.list_jobs()[0]
        self.assertEqual('REVERTED', job.state)
        self.assertIn('step three failed', job.to_dict()['error'])

    def test_expected_errors_keep_their_type_and_exit_code(self):
        with mock.patch.object(fake_flows.Step, 'execute',
                               side_effect=exceptions.InvalidInput(
                                   reason='nope')):
            error = self.assertRaises(exceptions.InvalidInput, self.run_toy)
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)

    def test_injected_failure_before_a_task(self):
        self.useFixture(fixtures.EnvironmentVariable(faults.ENV_VAR, 'two'))
        self.assertRaises(exceptions.FlowFailed, self.run_toy)
        self.assertEqual(['execute one', 'revert two', 'revert one'],
                         self.lines())

    def test_injected_failure_at_the_end(self):
        self.useFixture(fixtures.EnvironmentVariable(faults.ENV_VAR,
                                                     faults.END_OF_FLOW))
        self.assertRaises(exceptions.FlowFailed, self.run_toy)
        self.assertEqual(['execute one', 'execute two', 'execute three',
                          'revert three', 'revert two', 'revert one'],
                         self.lines())

    def test_unknown_job(self):
        self.assertRaises(exceptions.JobNotFound, engine.get_job,
                          'no-such-job')

    def test_finished_job_cannot_be_resumed(self):
        job_id, _ = self.run_toy()
        self.assertRaises(exceptions.JobNotResumable, engine.resume_job,
                          job_id)

    def test_resume_after_kill_9_does_not_rerun_finished_tasks(self):
        proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.unit.fake_flows', self.tmp,
             self.journal, 'two'])
        self.addCleanup(proc.wait)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 30
        while 'execute two' not in (os.path.exists(self.journal)
                                    and self.lines() or []):
            self.assertLess(time.monotonic(), deadline, 'task two not run')
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        job_id = '11111111-2222-3333-4444-555555555555'
        self.assertEqual(engine.INTERRUPTED, engine.get_job(job_id).state)
        result = engine.resume_job(job_id)

        self.assertEqual('three', result['out-three'])
        # one ran once; two (interrupted) ran again from its start.
        self.assertEqual(['execute one', 'execute two', 'execute two',
                          'execute three'], self.lines())
        self.assertEqual('SUCCESS', engine.get_job(job_id).state)
