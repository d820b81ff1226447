"""The conductor's decisions, with toy jobs and an autospec'd board."""

import contextlib
from unittest import mock

import fixtures
from taskflow import exceptions as tf_exc

from backup_flows import conf
from backup_flows import engine
from backup_flows.engine import boards
from backup_flows.engine import conductors
from backup_flows.engine import jobs
from backup_flows.engine import persistence

from tests.unit import fake_flows

STEPS = {'steps': ['one', 'two', 'three']}


class RunPostedJobTestCase(fake_flows.ToyJobTestCase):

    def new_job(self):
        backend = persistence.get_backend()
        _, book, _ = engine._new_job('toy', STEPS, fake_flows.TOY_JOB_ID)
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book)
        return book.uuid

    def run_posted(self, job_id, **kwargs):
        return conductors.run_posted_job(job_id, {'journal': self.journal},
                                         **kwargs)

    def test_a_new_job_runs_and_is_consumed(self):
        job_id = self.new_job()
        started = mock.Mock()
        self.assertEqual(conductors.CONSUME,
                         self.run_posted(job_id, started=started))
        started.assert_called_once_with(mock.ANY)
        job = engine.get_job(job_id)
        self.assertEqual(('SUCCESS', 1), (job.state, job.meta['attempts']))
        self.assertIsNone(persistence.read_claim(persistence.get_backend(),
                                                 job_id))

    def test_a_job_that_fails_is_reverted_and_consumed(self):
        job_id = self.new_job()
        outcome = conductors.run_posted_job(
            job_id, {'journal': self.journal, 'fail_at': 'two'})
        self.assertEqual(conductors.CONSUME, outcome)
        job = engine.get_job(job_id)
        self.assertEqual('REVERTED', job.state)
        self.assertIn('step two failed', job.meta['failure']['message'])

    def test_an_ended_job_is_consumed_without_running(self):
        job_id = self.new_job()
        self.run_posted(job_id)
        self.assertEqual(conductors.CONSUME, self.run_posted(job_id))
        self.assertEqual(3, len(self.lines()))

    def test_a_job_another_live_process_runs_is_left_alone(self):
        job_id = self.new_job()
        persistence.claim(persistence.get_backend(), job_id, jobs.owner())
        self.assertEqual(conductors.ABANDON, self.run_posted(job_id))
        self.assertEqual([], self.lines())

    def test_an_unknown_job_is_trashed(self):
        self.assertEqual(conductors.TRASH,
                         self.run_posted('00000000-0000-0000-0000-000000000000'))

    def test_after_max_attempts_the_job_is_given_up(self):
        conf.CONF.set_override('max_attempts', 2, group='jobboard')
        self.addCleanup(conf.CONF.clear_override, 'max_attempts',
                        group='jobboard')
        job_id = self.new_job()
        jobs.save_meta(persistence.get_backend(),
                       engine.get_job(job_id).flow_detail, attempts=2)
        self.assertEqual(conductors.TRASH, self.run_posted(job_id))
        job = engine.get_job(job_id)
        self.assertTrue(job.meta['gave_up'])
        self.assertIn('started 2 times', job.meta['error'])
        self.assertEqual([], self.lines())

    def test_a_job_its_conductor_will_not_start_is_abandoned(self):
        job_id = self.new_job()
        outcome = self.run_posted(job_id, started=lambda engine_: False)
        self.assertEqual(conductors.ABANDON, outcome)
        self.assertEqual([], self.lines())
        self.assertNotIn('attempts', engine.get_job(job_id).meta)
        self.assertEqual(conductors.CONSUME, self.run_posted(job_id))
        self.assertEqual(3, len(self.lines()))

    def test_a_job_suspended_while_it_runs_is_abandoned(self):
        job_id = self.new_job()
        engines = []
        journal_line = fake_flows._journal

        def suspend_in_two(journal, line):
            journal_line(journal, line)
            if line == 'execute two':
                engines[0].suspend()

        self.useFixture(fixtures.MockPatch(
            'tests.unit.fake_flows._journal', side_effect=suspend_in_two))
        outcome = self.run_posted(job_id, started=lambda e: engines.append(e)
                                  or True)
        self.assertEqual(conductors.ABANDON, outcome)
        self.assertNotIn('ended_at', engine.get_job(job_id).meta)
        self.assertEqual(['execute one', 'execute two'], self.lines())
        # resumed later, it runs the rest
        self.assertEqual(conductors.CONSUME, self.run_posted(job_id))
        self.assertEqual(['execute one', 'execute two', 'execute three'],
                         self.lines())


class ConductorTestCase(fake_flows.ToyJobTestCase):

    def setUp(self):
        super().setUp()
        self.board = mock.create_autospec(boards.RedisBoard, instance=True)
        self.conductor = conductors.Conductor(
            'test-conductor', self.board, persistence.get_backend())
        self.job = mock.Mock(uuid='posting-1', book_uuid='job-1',
                             details={'flow_uuid': 'job-1', 'store': {}})

    def done(self, outcome=None, error=None):
        fut = mock.Mock()
        fut.result.side_effect = error
        fut.result.return_value = outcome
        self.conductor._dispatched.add(fut)
        self.conductor._on_job_done(self.job, fut)
        self.assertNotIn(fut, self.conductor._dispatched)

    def test_each_outcome_does_its_board_call(self):
        self.done(conductors.CONSUME)
        self.board.consume.assert_called_once_with(self.job,
                                                   'test-conductor')
        self.done(conductors.TRASH)
        self.board.trash.assert_called_once_with(self.job, 'test-conductor')
        self.done(conductors.ABANDON)
        self.board.abandon.assert_called_once_with(self.job,
                                                   'test-conductor')

    def test_a_crash_while_running_abandons_the_job(self):
        self.done(error=RuntimeError('database gone'))
        self.board.abandon.assert_called_once_with(self.job,
                                                   'test-conductor')

    def test_a_job_no_longer_owned_is_left_to_its_new_owner(self):
        self.board.consume.side_effect = tf_exc.NotFound('gone')
        self.done(conductors.CONSUME)

    def test_a_lost_claim_suspends_the_job(self):
        self.conductor._renew_interval = 0.01
        self.board.renew.side_effect = [True, tf_exc.JobFailure('down'),
                                        False]
        running = mock.Mock()
        self.conductor._started(self.job, running)
        done = mock.Mock()
        done.wait.return_value = False
        self.conductor._keep_claim(self.job, done)
        self.assertEqual(3, self.board.renew.call_count)
        running.suspend.assert_called_once_with()

    def test_the_hooks_hear_of_starts_and_ends_and_their_errors_pass(self):
        started, ended = mock.Mock(), mock.Mock()
        started.side_effect = RuntimeError('catalog down')
        conductor = conductors.Conductor(
            'test-conductor', self.board, persistence.get_backend(),
            on_job_start=started, on_job_end=ended)
        self.assertTrue(conductor._started(self.job, mock.Mock()))
        started.assert_called_once_with('job-1')
        for outcome in (conductors.ABANDON, conductors.CONSUME,
                        conductors.TRASH):
            fut = mock.Mock()
            fut.result.return_value = outcome
            conductor._on_job_done(self.job, fut)
        # an abandoned job has not ended
        self.assertEqual([mock.call('job-1')] * 2, ended.call_args_list)

    def test_stop_suspends_the_running_jobs_and_starts_no_more(self):
        running = mock.Mock()
        self.assertTrue(self.conductor._started(self.job, running))
        self.conductor.stop()
        running.suspend.assert_called_once_with()
        self.assertFalse(self.conductor._started(mock.Mock(uuid='p-2'),
                                                 mock.Mock()))
