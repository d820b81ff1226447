"""Jobs in TaskFlow's own format, their claims, listing and purging."""

import contextlib
import datetime
import socket
import time

import taskflow.engines

from backup_flows import engine
from backup_flows import exceptions
from backup_flows.engine import jobs
from backup_flows.engine import persistence

from tests.unit import fake_flows

OTHER_HOST = {'host': 'elsewhere.example', 'pid': 4242, 'started': 7}


class TaskFlowFormatTestCase(fake_flows.ToyJobTestCase):

    def test_the_factory_and_its_arguments_are_saved_as_taskflow_does(self):
        job_id, _ = self.run_toy()
        job = engine.get_job(job_id)
        self.assertEqual({'name': 'tests.unit.fake_flows.get_flow',
                          'args': [],
                          'kwargs': {'steps': ['one', 'two', 'three']}},
                         job.meta['factory'])
        self.assertNotIn('args', job.meta)
        self.assertEqual({'steps': ['one', 'two', 'three']},
                         job.to_dict()['args'])

    def test_a_stock_taskflow_engine_completes_an_interrupted_job(self):
        job_id = self.kill_toy_at('two')
        backend = persistence.get_backend()
        with contextlib.closing(backend.get_connection()) as conn:
            flow_detail = conn.get_logbook(job_id).find(job_id)
        # nothing of backup-flows: TaskFlow rebuilds the flow from the
        # saved factory and finds the store in the flow detail
        taskflow.engines.load_from_detail(flow_detail,
                                          backend=backend).run()
        self.assertEqual(['execute one', 'execute two', 'execute two',
                          'execute three'], self.lines())
        self.assertEqual('SUCCESS', engine.get_job(job_id).state)


class ClaimTestCase(fake_flows.ToyJobTestCase):

    def setUp(self):
        super().setUp()
        self.backend = persistence.get_backend()

    def test_a_claim_is_won_once(self):
        me = jobs.owner()
        self.assertTrue(persistence.claim(self.backend, 'job-1', me))
        self.assertFalse(persistence.claim(self.backend, 'job-1', me))
        seen = persistence.read_claim(self.backend, 'job-1')
        # two takers that read the same row: the first swap wins
        self.assertTrue(persistence.claim(self.backend, 'job-1',
                                          OTHER_HOST, taken_over=seen))
        self.assertFalse(persistence.claim(self.backend, 'job-1', me,
                                           taken_over=seen))
        self.assertEqual('elsewhere.example',
                         persistence.read_claim(self.backend,
                                                'job-1')['host'])

    def test_a_finished_job_holds_no_claim(self):
        job_id, _ = self.run_toy()
        self.assertIsNone(persistence.read_claim(self.backend, job_id))

    def test_two_resumes_started_at_once_run_the_job_once(self):
        job_id = self.kill_toy_at('two')
        first = self.start_toy('resume', 'two')
        second = self.start_toy('resume', 'two')
        # the winner runs "two" again (and blocks in it); the loser stops
        self.wait_for_line('execute two', count=2)
        procs = {first, second}
        deadline = time.monotonic() + 30
        while all(p.poll() is None for p in procs):
            self.assertLess(time.monotonic(), deadline, 'no resume stopped')
            time.sleep(0.05)
        loser = next(p for p in procs if p.poll() is not None)
        self.assertEqual(exceptions.EXIT_FAILED, loser.returncode)
        self.assertIn('Job %s is taken: process' % job_id,
                      loser.stderr.read())
        winner = (procs - {loser}).pop()
        self.assertIsNone(winner.poll())
        self.assertEqual('RUNNING', engine.get_job(job_id).state)
        self.assertRaises(exceptions.JobTaken, engine.abort_job, job_id)
        winner.kill()
        winner.wait()
        self.assertEqual(['execute one', 'execute two', 'execute two'],
                         self.lines())
        self.assertEqual(engine.INTERRUPTED, engine.get_job(job_id).state)

    def interrupted_elsewhere(self, heartbeat_age):
        job_id = self.kill_toy_at('two')
        seen = persistence.read_claim(self.backend, job_id)
        self.assertTrue(persistence.claim(self.backend, job_id, OTHER_HOST,
                                          taken_over=seen))
        with self.backend.engine.begin() as conn:
            conn.execute(persistence.CLAIMS.update().values(
                heartbeat_at=persistence.utcnow() - datetime.timedelta(
                    seconds=heartbeat_age)))
        return job_id

    def test_a_job_run_on_another_host_is_alive_while_it_beats(self):
        job_id = self.interrupted_elsewhere(heartbeat_age=5)
        job = engine.get_job(job_id)
        self.assertEqual('RUNNING', job.state)
        self.assertEqual('elsewhere.example pid 4242',
                         job.to_dict()['owner'])
        error = self.assertRaises(exceptions.JobTaken, engine.resume_job,
                                  job_id)
        self.assertIn('process 4242 on elsewhere.example', str(error))

    def test_a_job_whose_heartbeat_stopped_is_interrupted(self):
        job_id = self.interrupted_elsewhere(heartbeat_age=61)
        self.assertEqual(engine.INTERRUPTED, engine.get_job(job_id).state)
        engine.resume_job(job_id)
        self.assertEqual('SUCCESS', engine.get_job(job_id).state)
        self.assertNotEqual(socket.gethostname(), OTHER_HOST['host'])


class ListAndPurgeTestCase(fake_flows.ToyJobTestCase):

    def age(self, job_id, days):
        """Make the job look as if it ended ``days`` days ago."""
        backend = persistence.get_backend()
        flow_detail = engine.get_job(job_id).flow_detail
        stamp = (datetime.datetime.now(datetime.timezone.utc) -
                 datetime.timedelta(days=days)).isoformat()
        flow_detail.meta['updated_at'] = stamp
        with contextlib.closing(backend.get_connection()) as conn:
            conn.update_flow_details(flow_detail)

    def test_list_reads_no_atoms(self):
        job_id, _ = self.run_toy()
        [job] = engine.list_jobs()
        self.assertEqual((job_id, 'SUCCESS', 'toy'),
                         (job.id, job.state, job.flow))
        self.assertNotIn('tasks', job.to_dict())
        self.assertIn('tasks', engine.get_job(job_id).to_dict())

    def test_purge_deletes_old_clean_jobs_only(self):
        old, _ = self.run_toy()
        recent, _ = self.run_toy()
        self.assertRaises(exceptions.FlowFailed, self.run_toy,
                          fail_at='three')
        reverted = engine.list_jobs()[-1].id
        self.inject('fail_revert_of_task', 'two')
        self.assertRaises(exceptions.FlowRevertIncomplete, self.run_toy,
                          fail_at='three')
        dirty = engine.list_jobs()[-1].id
        interrupted = self.kill_toy_at('two')
        for job_id in (old, reverted, dirty, interrupted):
            self.age(job_id, 40)
        self.age(recent, 20)

        purged, kept = engine.purge_jobs(30, dry_run=True)
        self.assertEqual(5, len(engine.list_jobs()))
        purged, kept = engine.purge_jobs(30)
        self.assertEqual({old, reverted}, {job.id for job in purged})
        self.assertEqual({dirty: 'it left resources behind (job cleanup)',
                          interrupted: 'it is INTERRUPTED'},
                         {job.id: why for job, why in kept})
        self.assertEqual({recent, dirty, interrupted},
                         {job.id for job in engine.list_jobs()})
        self.assertRaises(exceptions.JobNotFound, engine.get_job, old)
