"""Jobs posted to the Redis jobboard and run by backup-flows-conductor."""

import time

import redis

from backup_flows import conf
from backup_flows import engine
from backup_flows import exceptions

from tests.functional.engine import base


class ConductorTestCase(base.ConductorTestCase):

    def test_a_posted_job_runs_on_a_conductor(self):
        self.start_conductor()
        job_id = self.post_toy()
        job = self.wait_for_state(job_id, 'SUCCESS')
        self.assertEqual(['execute one', 'execute two', 'execute three'],
                         self.lines())
        self.assertEqual(1, job.meta['attempts'])
        # consumed: the board is empty again
        from backup_flows.engine import boards
        from backup_flows.engine import persistence
        with boards.connected(persistence.get_backend()) as board:
            self.assertEqual(0, board.job_count)

    def test_the_cli_in_jobboard_mode_waits_and_returns_the_store(self):
        conf.CONF.set_override('mode', 'jobboard', group='engine')
        self.start_conductor()
        job_id, store = engine.run_flow(
            'toy', {'steps': ['one', 'two']}, {'journal': self.journal})
        self.assertEqual({'journal': self.journal, 'out-one': 'one',
                          'out-two': 'two'}, store)
        self.assertEqual('SUCCESS', engine.get_job(job_id).state)

    def test_a_failed_job_raises_what_it_raised_in_process(self):
        conf.CONF.set_override('mode', 'jobboard', group='engine')
        self.start_conductor()
        error = self.assertRaises(
            exceptions.BackupFlowsError, engine.run_flow, 'toy',
            {'steps': ['one', 'two'], }, {'journal': self.journal,
                                          'fail_at': 'two'})
        self.assertIn('step two failed', str(error))
        self.assertEqual(exceptions.EXIT_FAILED, error.exit_code)
        self.assertEqual(['execute one', 'execute two', 'revert two',
                          'revert one'], self.lines())

    def test_kill_9_of_a_conductor_another_finishes_the_job(self):
        first = self.start_conductor(block_at='two')
        job_id = self.post_toy()
        self.wait_for_line('execute two')
        second = self.start_conductor()
        time.sleep(1)
        # the claim is renewed: the second conductor leaves it alone
        self.assertEqual(1, self.lines().count('execute two'))
        killed_at = time.monotonic()
        self.kill_9(first)

        job = self.wait_for_state(job_id, 'SUCCESS',
                                  timeout=base.CLAIM_EXPIRY + 30)

        took = time.monotonic() - killed_at
        self.assertLess(took, base.CLAIM_EXPIRY + 10)
        # finished tasks were not run again; the interrupted one was
        self.assertEqual(['execute one', 'execute two', 'execute two',
                          'execute three'], self.lines())
        self.assertEqual(2, job.meta['attempts'])
        self.assertIsNone(second.poll())

    def test_a_job_never_runs_on_two_conductors_at_once(self):
        self.start_conductor(block_at='two')
        job_id = self.post_toy()
        self.wait_for_line('execute two')
        # The Redis claim vanishes while its conductor still runs the job
        # (as after a partition longer than the expiry).
        client = redis.Redis(host='127.0.0.1', port=6379)
        owned = [key for key in client.scan_iter(match=self.board + '*')
                 if key.endswith(b'.owned')]
        self.assertEqual(1, len(owned), owned)
        client.delete(*owned)
        self.start_conductor()
        time.sleep(3)
        self.assertEqual(1, self.lines().count('execute two'))
        # the first one finds its claim gone, suspends after its task,
        # and one of them resumes the job from there
        open(self.release, 'w').close()
        self.wait_for_state(job_id, 'SUCCESS', timeout=60)
        self.assertEqual(['execute one', 'execute two', 'execute three'],
                         self.lines())

    def test_a_job_whose_conductors_keep_dying_is_given_up(self):
        conf.CONF.set_override('mode', 'jobboard', group='engine')
        job_id = self.post_toy()
        for attempt in (1, 2):
            proc = self.start_conductor(block_at='two')
            self.wait_for_line('execute two', count=attempt,
                               timeout=base.CLAIM_EXPIRY + 30)
            self.kill_9(proc)
        self.start_conductor(block_at='two')

        error = self.assertRaises(exceptions.JobGaveUp,
                                  __import__('backup_flows.engine.posting',
                                             fromlist=['x']).wait_for_job,
                                  job_id)

        self.assertIn('started 2 times without ending', str(error))
        self.assertEqual(2, self.lines().count('execute two'))
        job = engine.get_job(job_id)
        self.assertTrue(job.meta['gave_up'])
        # off the board: nobody runs it again; job abort reverts it
        from backup_flows.engine import boards
        from backup_flows.engine import persistence
        with boards.connected(persistence.get_backend()) as board:
            self.assertEqual(0, board.job_count)
        self.assertEqual('REVERTED', engine.abort_job(job_id).state)
        self.assertEqual(['revert two', 'revert one'], self.lines()[-2:])

    def test_an_unreachable_jobboard_fails_clearly_and_lists_no_job(self):
        conf.CONF.set_override('redis_port', 9, group='jobboard')
        error = self.assertRaises(exceptions.JobboardUnavailable,
                                  self.post_toy)
        self.assertIn('127.0.0.1:9', str(error))
        self.assertEqual([], engine.list_jobs())
