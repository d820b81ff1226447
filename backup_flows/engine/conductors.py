"""The conductor: claims jobs from the jobboard and runs them.

A TaskFlow conductor (``NonBlockingConductor``) whose claims expire: each
claim is renewed every third of ``[jobboard] claim_expiry`` by its owner
only, so the jobs of a conductor killed with kill -9 are claimed by another
once their claims expire, and resumed from their persisted state (finished
tasks are not run again). The claim row of the job in the persistence
database (the one ``job resume`` takes) guards against two runs at once:
a conductor that finds the job's process alive leaves the job alone.

A job started ``[jobboard] max_attempts`` times without ending (its
conductors died under it) is trashed from the board and marked "gave up".
"""

import contextlib
import threading

from oslo_log import log as logging
from taskflow import exceptions as tf_exc
from taskflow.conductors.backends import impl_nonblocking

from backup_flows import conf as bf_conf
from backup_flows import exceptions
import backup_flows.engine as bf_engine
from backup_flows.engine import boards
from backup_flows.engine import jobs
from backup_flows.engine import persistence
from backup_flows.engine import posting

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

# What a conductor does with a job's posting once it stopped running it.
CONSUME = 'consume'    # the job ended: remove it from the board
ABANDON = 'abandon'    # not ended (suspended, or another process runs it)
TRASH = 'trash'        # given up: off the board, kept in the trash


def run_posted_job(job_id, store, started=lambda engine: True):
    """Run or go on with a posted job this process claimed on the board;
    returns CONSUME, ABANDON or TRASH. ``started(engine)`` is given the
    job's engine, ready to run, so that another thread can suspend it; it
    returns False if the job must not run now (the conductor stops)."""
    try:
        job, backend, engine, _, owner = bf_engine._reload(
            job_id, exceptions.JobNotResumable, 'run', 'conducted_at',
            store=store)
    except exceptions.JobTaken as exc:
        LOG.info('%s; leaving it on the board', exc)
        return ABANDON
    except exceptions.JobNotFound:
        LOG.error('Job %s is posted but not persisted: trashing it', job_id)
        return TRASH
    except exceptions.JobNotResumable as exc:
        if jobs.get_job(job_id).raw_state in posting.ENDED_STATES:
            return CONSUME    # ended; its conductor died before consuming
        LOG.warning('%s; leaving it on the board', exc)
        return ABANDON
    with bf_engine._running(backend, job_id, owner):
        attempts = int(job.meta.get('attempts') or 0) + 1
        if attempts > CONF.jobboard.max_attempts:
            reason = ('started %d times without ending (its conductors '
                      'died under it)' % (attempts - 1))
            LOG.error('Job %s (%s) %s: giving it up', job_id, job.flow,
                      reason)
            jobs.save_meta(backend, job.flow_detail, gave_up=True,
                           error='gave up: ' + reason)
            return TRASH
        # compiled and prepared first: only then can it be suspended
        engine.compile()
        engine.prepare()
        if not started(engine):
            return ABANDON
        jobs.save_meta(backend, job.flow_detail, attempts=attempts)
        LOG.info('Job %s (%s) running (start %d)', job_id, job.flow,
                 attempts)
        try:
            if bf_engine._run(engine, backend, job.flow_detail,
                              job.flow) is None:
                return ABANDON    # suspended: resumed later, anywhere
        except exceptions.BackupFlowsError as exc:
            LOG.warning('Job %s (%s) ended: %s', job_id, job.flow, exc)
    return CONSUME


class Conductor(impl_nonblocking.NonBlockingConductor):
    """Runs jobs of the board, at most ``max_simultaneous_jobs`` at once,
    keeping each claim alive while its job runs. ``on_job_start(job_id)``
    is called as a job starts running here, ``on_job_end(job_id)`` once it
    ended (or was given up) and left the board; their errors are logged."""

    def __init__(self, name, board, persistence, conf=CONF,
                 on_job_start=None, on_job_end=None):
        self._on_job_start = on_job_start
        self._on_job_end = on_job_end
        super().__init__(
            name, board, persistence=persistence, engine=conf.engine.engine,
            wait_timeout=conf.conductor.wait_timeout,
            max_simultaneous_jobs=conf.conductor.max_simultaneous_jobs)
        self._renew_interval = conf.jobboard.claim_expiry / 3.0
        self._engines = {}
        self._engines_lock = threading.Lock()

    def _dispatch_job(self, job):
        done = threading.Event()
        renewer = threading.Thread(target=self._keep_claim, args=(job, done),
                                   name='claim-' + job.uuid, daemon=True)
        renewer.start()
        try:
            return run_posted_job(
                _job_id(job), (job.details or {}).get('store') or {},
                started=lambda engine: self._started(job, engine))
        finally:
            done.set()
            with self._engines_lock:
                self._engines.pop(job.uuid, None)

    def _started(self, job, engine):
        with self._engines_lock:
            if self._wait_timeout.is_stopped():
                return False
            self._engines[job.uuid] = engine
        if self._on_job_start is not None:
            try:
                self._on_job_start(_job_id(job))
            except Exception:
                LOG.exception('Recording the start of job %s failed', job)
        return True

    def _keep_claim(self, job, done):
        while not done.wait(self._renew_interval):
            try:
                if self._jobboard.renew(job, self._name):
                    continue
            except tf_exc.JobFailure:
                # the board is unreachable for now: the claim may still
                # be ours next time (the job's claim row guards the run)
                LOG.warning('Renewing the claim on job %s failed', job,
                            exc_info=True)
                continue
            LOG.error('Conductor %s lost its claim on job %s: suspending '
                      'it after its running tasks', self._name, job)
            self._suspend(job.uuid)
            return

    def _suspend(self, posting_uuid):
        with self._engines_lock:
            engine = self._engines.get(posting_uuid)
        if engine is not None:
            engine.suspend()

    def stop(self):
        """Claim no more jobs; suspend the running ones after their
        running tasks (another conductor resumes them)."""
        super().stop()
        with self._engines_lock:
            running = list(self._engines.values())
        for engine in running:
            engine.suspend()

    def _on_job_done(self, job, fut):
        try:
            outcome = fut.result()
        except Exception:
            LOG.exception('Running job %s failed; leaving it on the board',
                          job)
            outcome = ABANDON
        try:
            if outcome == CONSUME:
                self._jobboard.consume(job, self._name)
            elif outcome == TRASH:
                self._jobboard.trash(job, self._name)
            else:
                self._jobboard.abandon(job, self._name)
        except (tf_exc.JobFailure, tf_exc.NotFound):
            # no longer ours (the claim expired): its new owner decides
            LOG.warning('Could not %s job %s', outcome, job, exc_info=True)
            outcome = ABANDON
        try:
            if outcome != ABANDON and self._on_job_end is not None:
                self._on_job_end(_job_id(job))
        except Exception:
            LOG.exception('Recording the end of job %s failed', job)
        finally:
            self._dispatched.discard(fut)


def _job_id(posting):
    """The id of the job (its logbook and flow detail) a posting names."""
    return (posting.details or {}).get('flow_uuid') or posting.book_uuid


@contextlib.contextmanager
def connected(name, on_job_start=None, on_job_end=None):
    """A conductor named ``name`` on the configured jobboard, connected
    for the ``with`` block; the hooks as for :class:`Conductor`."""
    backend = persistence.get_backend()
    with boards.connected(backend) as board:
        yield Conductor(name, board, backend, on_job_start=on_job_start,
                        on_job_end=on_job_end)
