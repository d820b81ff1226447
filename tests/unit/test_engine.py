from unittest import mock

import fixtures
from taskflow.listeners import capturing

from backup_flows import conf
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import faults

from tests.unit import fake_flows

CONF = conf.CONF


class EngineTestCase(fake_flows.ToyJobTestCase):

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

    def test_listener_factories_see_every_engine_until_removed(self):
        made = []

        def factory(tf_engine):
            made.append(capturing.CaptureListener(tf_engine))
            return made[-1]

        remove = engine.add_listener_factory(factory)
        self.addCleanup(lambda: factory in engine._listener_factories and
                        remove())
        self.run_toy()
        self.assertEqual(1, len(made))
        self.assertIn(('task', 'SUCCESS'), [v[:2] for v in made[0].values])
        remove()
        self.run_toy()
        self.assertEqual(1, len(made))

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
        self.inject('fail_before_task', 'two')
        self.assertRaises(exceptions.FlowFailed, self.run_toy)
        self.assertEqual(['execute one', 'revert two', 'revert one'],
                         self.lines())

    def test_no_failure_injected_by_default(self):
        self.assertIsNone(CONF.fault_injection.fail_before_task)
        self.assertIsNone(CONF.fault_injection.fail_revert_of_task)
        self.useFixture(fixtures.EnvironmentVariable(
            'BACKUP_FLOWS_FAIL_BEFORE_TASK', 'two'))
        job_id, _ = self.run_toy()
        self.assertEqual('SUCCESS', engine.get_job(job_id).state)

    def test_a_failed_revert_lets_the_chain_go_on_and_is_reported(self):
        self.inject('fail_revert_of_task', 'two')
        error = self.assertRaises(exceptions.FlowRevertIncomplete,
                                  self.run_toy, fail_at='three')
        # two's revert failed before its body: one is reverted all the same
        self.assertEqual(['execute one', 'execute two', 'execute three',
                          'revert three', 'revert one'], self.lines())
        self.assertIn('step three failed', str(error))
        self.assertIn('the revert of two failed', str(error))
        self.assertEqual(exceptions.EXIT_FAILED, error.exit_code)
        job = engine.list_jobs()[0]
        self.assertEqual('REVERTED', job.state)
        self.assertEqual({'two': 'InjectedFailure: failure injected in the '
                                 'revert of task two'},
                         job.to_dict()['failed_reverts'])

    def test_injected_failure_at_the_end(self):
        self.inject('fail_before_task', faults.END_OF_FLOW)
        self.assertRaises(exceptions.FlowFailed, self.run_toy)
        self.assertEqual(['execute one', 'execute two', 'execute three',
                          'revert three', 'revert two', 'revert one'],
                         self.lines())

    def test_ctrl_c_names_the_job_and_how_to_go_on(self):
        with mock.patch.object(fake_flows.Step, 'execute',
                               side_effect=KeyboardInterrupt):
            error = self.assertRaises(exceptions.JobInterrupted,
                                      self.run_toy)
        job_id = engine.list_jobs()[0].id
        self.assertIn('job resume %s' % job_id, str(error))
        self.assertIn('job abort %s' % job_id, str(error))
        self.assertEqual(130, error.exit_code)

    def test_unknown_job(self):
        self.assertRaises(exceptions.JobNotFound, engine.get_job,
                          'no-such-job')

    def test_finished_job_cannot_be_resumed(self):
        job_id, _ = self.run_toy()
        self.assertRaises(exceptions.JobNotResumable, engine.resume_job,
                          job_id)

    def test_abort_after_kill_9_reverts_what_ran(self):
        job_id = self.kill_toy_at('two')
        job = engine.abort_job(job_id)
        self.assertEqual('REVERTED', job.state)
        self.assertEqual(['execute one', 'execute two', 'revert two',
                          'revert one'], self.lines())
        self.assertIn('aborted', job.to_dict()['error'])
        self.assertRaises(exceptions.JobNotAbortable, engine.abort_job,
                          job_id)
        self.assertRaises(exceptions.JobNotResumable, engine.resume_job,
                          job_id)

    def test_abort_after_the_point_of_no_return_finishes_the_job(self):
        job_id = self.kill_toy_at('three', 'two')
        job = engine.abort_job(job_id)
        self.assertEqual('SUCCESS', job.state)
        # nothing reverted: what ran up to "two" is kept, "three" finished
        self.assertEqual(['execute one', 'execute two', 'execute three',
                          'execute three'], self.lines())

    def test_abort_before_the_point_of_no_return_reverts(self):
        job_id = self.kill_toy_at('two', 'three')
        self.assertEqual('REVERTED', engine.abort_job(job_id).state)

    def test_a_failed_best_effort_task_is_reported_not_raised(self):
        job_id, result = engine.run_flow(
            'toy', {'steps': ['one', 'two', 'three'],
                    'best_effort': ['two']},
            {'journal': self.journal, 'fail_at': 'two'})
        job = engine.get_job(job_id)
        self.assertEqual('SUCCESS', job.state)
        self.assertEqual({'two': 'RuntimeError: step two failed'},
                         job.to_dict()['failed_cleanups'])
        self.assertEqual(['execute one', 'execute two', 'execute three'],
                         self.lines())
        self.assertEqual({}, engine.get_job(
            self.run_toy()[0]).to_dict()['failed_cleanups'])

    def test_an_injected_failure_of_a_best_effort_task_is_reported(self):
        self.inject('fail_before_task', 'two')
        job_id, _ = engine.run_flow(
            'toy', {'steps': ['one', 'two', 'three'],
                    'best_effort': ['two']}, {'journal': self.journal})
        self.assertIn('failure injected before task two',
                      engine.get_job(job_id).to_dict()['failed_cleanups'][
                          'two'])

    def test_abort_with_a_failing_revert_reports_it(self):
        job_id = self.kill_toy_at('two')
        self.inject('fail_revert_of_task', 'two')
        error = self.assertRaises(exceptions.FlowRevertIncomplete,
                                  engine.abort_job, job_id)
        self.assertIn('the revert of two failed', str(error))
        self.assertEqual(['execute one', 'execute two', 'revert one'],
                         self.lines())

    def test_only_an_interrupted_job_can_be_aborted(self):
        job_id, _ = self.run_toy()
        error = self.assertRaises(exceptions.JobNotAbortable,
                                  engine.abort_job, job_id)
        self.assertIn('it is SUCCESS', str(error))
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)
        self.assertRaises(exceptions.JobNotFound, engine.abort_job, 'nope')

    def test_resume_after_kill_9_does_not_rerun_finished_tasks(self):
        job_id = self.kill_toy_at('two')
        result = engine.resume_job(job_id)

        self.assertEqual('three', result['out-three'])
        # one ran once; two (interrupted) ran again from its start.
        self.assertEqual(['execute one', 'execute two', 'execute two',
                          'execute three'], self.lines())
        self.assertEqual('SUCCESS', engine.get_job(job_id).state)
