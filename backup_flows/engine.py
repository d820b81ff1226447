"""Runs backup-flows flows: the only module that touches TaskFlow engines.

Every run is a *job*: one TaskFlow logbook holding one flow detail, both with
the job's id. The flow detail's ``meta`` records the flow's plugin name and the
plain arguments of its factory, so the same flow can be rebuilt and resumed
from its persisted state by any process (here the CLI's ``job resume``; later a
conductor claiming it from a jobboard).
"""

import contextlib
import datetime
import os
import socket
import threading

import futurist
from oslo_log import log as logging
from oslo_utils import uuidutils
from taskflow import exceptions as tf_exc
from taskflow import states
import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow.persistence import models
from taskflow.types import failure

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import faults
from backup_flows import keys
from backup_flows import persistence
from backup_flows import plugins

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

# Job states shown to users: TaskFlow's flow states plus INTERRUPTED, a flow
# left RUNNING by a process that no longer exists.
INTERRUPTED = 'INTERRUPTED'
RESUMABLE_STATES = (INTERRUPTED, states.PENDING, states.SUSPENDED,
                    states.RESUMING)

_executor_lock = threading.Lock()


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec='seconds')


class Job:
    """A persisted flow run, as shown by ``job list`` and ``job show``.

    Built from its flow detail's id, state and meta (``job show`` and the
    reverts also load the flow detail with its atoms; ``job list`` does
    not) and its claim row (who runs it).
    """

    def __init__(self, job_id, state, meta, claim=None, flow_detail=None):
        self.id = job_id
        self.raw_state = state or states.PENDING
        self.meta = dict(meta or {})
        self.claim = claim
        self.flow_detail = flow_detail

    @classmethod
    def from_detail(cls, flow_detail, claim=None):
        return cls(flow_detail.uuid, flow_detail.state, flow_detail.meta,
                   claim, flow_detail)

    @property
    def flow(self):
        return self.meta.get('flow')

    @property
    def args(self):
        """The keyword arguments of the job's flow factory."""
        factory = self.meta.get('factory')
        if factory:
            return factory.get('kwargs') or {}
        return self.meta.get('args') or {}

    @property
    def state(self):
        if (self.raw_state in (states.RUNNING, states.REVERTING)
                and not claim_alive(self.claim)):
            return INTERRUPTED
        return self.raw_state

    def to_dict(self):
        job = {
            'id': self.id,
            'flow': self.flow,
            'state': self.state,
            'created_at': self.meta.get('created_at'),
            'updated_at': self.meta.get('updated_at'),
            'args': self.args,
            'error': self.meta.get('error'),
            # {task: error} of reverts that failed: what they should have
            # removed may be left in the cloud, tagged with the job id
            'failed_reverts': self.meta.get('failed_reverts') or {},
            # {task: error} of best-effort cleanups that failed after the
            # commit point: `job cleanup` removes what they left
            'failed_cleanups': self.meta.get('failed_cleanups') or {},
        }
        if self.claim and self.state in (states.RUNNING, states.REVERTING):
            job['owner'] = '%(host)s pid %(pid)s' % self.claim
        if self.flow_detail is not None:
            job['tasks'] = [{'name': ad.name, 'state': ad.state}
                            for ad in self.flow_detail]
        return job


def claim_alive(claim):
    """Whether the process holding ``claim`` (a claim row) still runs it:
    on this host, checked directly; on another, by its heartbeat."""
    if claim is None:
        return False
    if claim['host'] != socket.gethostname():
        return persistence.claim_age(claim) < CONF.engine.claim_timeout
    try:
        os.kill(claim['pid'], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _process_start(claim['pid']) == claim['started']


def _process_start(pid):
    """Start time of a process in clock ticks (tells reused pids apart)."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return int(stat.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _owner():
    pid = os.getpid()
    return {'host': socket.gethostname(), 'pid': pid,
            'started': _process_start(pid)}


def _with_injected_failure(flow):
    end_failure = faults.end_of_flow_task()
    if end_failure is None:
        return flow
    return linear_flow.Flow(flow.name + '-with-injected-failure').add(
        flow, end_failure)


def _rebuild_flow(job):
    """The flow of a persisted job, from the factory saved in its details
    (as a stock TaskFlow engine or conductor rebuilds it)."""
    if 'factory' in job.meta:
        flow = taskflow.engines.flow_from_detail(job.flow_detail)
    else:
        # a job saved before the factory details were recorded
        flow = plugins.load_flow_factory(job.flow)(**job.args)
    return _with_injected_failure(flow)


_listener_factories = []


def add_listener_factory(factory):
    """Attach ``factory(engine)``, a TaskFlow listener, to every engine
    this process runs from now on (the CLI's progress lines); returns a
    function that stops it."""
    _listener_factories.append(factory)
    return lambda: _listener_factories.remove(factory)


def _load_engine(flow, flow_detail, book, backend, store=None):
    options = {}
    if CONF.engine.engine == 'parallel':
        options['executor'] = _shared_executor()
    engine = taskflow.engines.load(
        flow, store=store, flow_detail=flow_detail, book=book,
        backend=backend, engine=CONF.engine.engine, **options)
    for factory in _listener_factories:
        factory(engine).register()
    return engine


_executor = None


def _shared_executor():
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = futurist.ThreadPoolExecutor(
                max_workers=CONF.engine.max_workers)
        return _executor


def _save_meta(backend, flow_detail, **changes):
    flow_detail.meta.update(changes)
    flow_detail.meta['updated_at'] = _now()
    with contextlib.closing(backend.get_connection()) as conn:
        conn.update_flow_details(flow_detail)


def run_flow(flow_name, flow_args, store, job_id=None):
    """Run a flow to completion as a new job and return its job id and store.

    The job is saved in TaskFlow's own format: the flow's factory (the
    ``get_flow`` function of the plugin) and its arguments are recorded with
    ``taskflow.engines.save_factory_details``, and the store is persisted by
    the engine, so ``taskflow.engines.load_from_detail`` rebuilds the job in
    any process.

    :param flow_name: plugin name in the ``backup_flows.flows`` namespace.
    :param flow_args: plain keyword arguments of the flow's factory.
    :param store: plain initial values of the flow store.
    :raises: BackupFlowsError subclasses; the flow has been reverted.
    """
    backend = persistence.get_backend()
    job_id = job_id or uuidutils.generate_uuid()
    factory = plugins.load_flow_factory(flow_name)
    flow = _with_injected_failure(factory(**flow_args))
    book = models.LogBook(flow_name, uuid=job_id)
    flow_detail = models.FlowDetail(flow_name, uuid=job_id)
    flow_detail.meta.update({'flow': flow_name, 'created_at': _now()})
    taskflow.engines.save_factory_details(flow_detail, factory, [],
                                          flow_args)
    book.add(flow_detail)
    owner = _owner()
    if not persistence.claim(backend, job_id, owner):
        raise _taken(backend, job_id)
    with _running(backend, job_id, owner):
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book)
        engine = _load_engine(flow, flow_detail, book, backend, store=store)
        LOG.info('Job %s (%s) started', job_id, flow_name)
        return job_id, _run(engine, backend, flow_detail, flow_name)


def _taken(backend, job_id):
    claim = persistence.read_claim(backend, job_id) or {}
    return exceptions.JobTaken(job_id=job_id, host=claim.get('host', '?'),
                               pid=claim.get('pid', '?'))


@contextlib.contextmanager
def _running(backend, job_id, owner):
    """While a claimed job runs: refresh its claim's heartbeat; then drop
    the claim (a job left RUNNING without one is interrupted)."""
    stop = threading.Event()
    interval = CONF.engine.claim_timeout / 4.0

    def beat():
        while not stop.wait(interval):
            try:
                if not persistence.beat(backend, job_id, owner):
                    LOG.error('Job %s: another process took over its '
                              'claim', job_id)
                    return
            except Exception:
                LOG.warning('Job %s: refreshing its claim failed', job_id,
                            exc_info=True)

    heart = threading.Thread(target=beat, name='job-heartbeat', daemon=True)
    heart.start()
    try:
        yield
    finally:
        stop.set()
        try:
            persistence.release(backend, job_id, owner)
        except Exception:
            LOG.warning('Job %s: dropping its claim failed (it expires)',
                        job_id, exc_info=True)


def resume_job(job_id):
    """Resume an interrupted job from its persisted state.

    Finished tasks are not run again; the interrupted one runs again from its
    start (tasks are written to be safe to re-run). Of two processes
    resuming one job, exactly one runs it; the other raises JobTaken.
    """
    job, backend, flow_detail, engine, _, owner = _reload(
        job_id, exceptions.JobNotResumable, 'resumed', 'resumed_at')
    with _running(backend, job_id, owner):
        return _run(engine, backend, flow_detail, job.flow)


def _take_over(backend, job, refusal, verb):
    """Claim an interrupted job for this process; returns the owner."""
    if claim_alive(job.claim):
        raise _taken(backend, job.id)
    if job.state not in RESUMABLE_STATES:
        raise refusal(job_id=job.id,
                      reason='it is %s (only an interrupted job can be %s)'
                             % (job.state, verb))
    owner = _owner()
    if not persistence.claim(backend, job.id, owner, taken_over=job.claim):
        raise _taken(backend, job.id)
    return owner


def _reload(job_id, refusal, verb, stamp):
    """(job, backend, flow detail, engine, flow, owner) of an interrupted
    job, claimed by this process (its meta ``stamp`` set); raises
    ``refusal`` for a job that is not interrupted, JobTaken for one that
    another process runs or has just claimed."""
    backend = persistence.get_backend()
    owner = _take_over(backend, get_job(job_id), refusal, verb)
    try:
        with contextlib.closing(backend.get_connection()) as conn:
            book = conn.get_logbook(job_id)
        job = Job.from_detail(book.find(job_id))
        # read again under the claim: it may have ended in between
        if job.raw_state not in RESUMABLE_STATES + (states.RUNNING,
                                                    states.REVERTING):
            raise refusal(job_id=job_id,
                          reason='it is %s (only an interrupted job can be '
                                 '%s)' % (job.raw_state, verb))
        flow = _rebuild_flow(job)
        _save_meta(backend, job.flow_detail, **{stamp: _now()})
        engine = _load_engine(flow, job.flow_detail, book, backend)
    except BaseException:
        persistence.release(backend, job_id, owner)
        raise
    return job, backend, job.flow_detail, engine, flow, owner


def failed_reverts(flow_detail):
    """{atom name: error} of the reverts of a job that failed (their
    guarded revert returned the REVERT_FAILED marker)."""
    found = {}
    for atom in flow_detail:
        result = getattr(atom, 'revert_results', None)
        if isinstance(result, dict) and keys.REVERT_FAILED in result:
            found[atom.name] = result[keys.REVERT_FAILED]
    return found


def failed_cleanups(flow_detail):
    """{atom name: error} of the best-effort tasks of a job that failed
    (they returned the CLEANUP_FAILED marker)."""
    found = {}
    for atom in flow_detail:
        result = atom.results if atom.state == states.SUCCESS else None
        if isinstance(result, dict) and keys.CLEANUP_FAILED in result:
            found[atom.name] = result[keys.CLEANUP_FAILED]
    return found


def _atoms(flow):
    """Every atom of ``flow`` and of its sub-flows."""
    for node, _ in flow.iter_nodes():
        if hasattr(node, 'iter_nodes'):
            yield from _atoms(node)
        else:
            yield node


def _committed(flow, flow_detail):
    """Name of the point-of-no-return task of ``flow`` that succeeded in
    ``flow_detail``, or None."""
    done = {ad.name for ad in flow_detail if ad.state == states.SUCCESS}
    for atom in _atoms(flow):
        if getattr(atom, 'point_of_no_return', False) and atom.name in done:
            return atom.name
    return None


def abort_job(job_id):
    """Revert an interrupted job instead of resuming it.

    The tasks it was running when it was interrupted (or, between two
    tasks, the next one) are recorded as failed with JobAborted; running
    the engine then reverts every task that ran, newest first, as after any
    failure: the server goes back to its prior power state and what the job
    created is deleted. Returns the job (now REVERTED).

    A job interrupted after its point of no return (a backup committed and
    verified, a snapshot set recorded) is finished instead: only best-effort
    cleanup is left, and reverting would discard a good result. Returns the
    job (then SUCCESS).
    """
    job, backend, flow_detail, engine, flow, owner = _reload(
        job_id, exceptions.JobNotAbortable, 'aborted', 'aborted_at')
    with _running(backend, job_id, owner):
        _abort(job, backend, flow_detail, engine, flow)
    return get_job(job_id)


def _abort(job, backend, flow_detail, engine, flow):
    committed = _committed(flow, flow_detail)
    if committed:
        LOG.warning('Job %s passed its point of no return (task %s): '
                    'finishing it instead of reverting it', job.id,
                    committed)
        _run(engine, backend, flow_detail, job.flow)
        return
    engine.compile()
    engine.prepare()
    aborted = exceptions.JobAborted(job_id=job.id)
    for name in _interrupted_atoms(flow_detail):
        engine.storage.save(name, failure.Failure.from_exception(aborted),
                            states.FAILURE)
    try:
        _run(engine, backend, flow_detail, job.flow)
    except exceptions.JobAborted:
        pass


def _interrupted_atoms(flow_detail):
    """Atoms to mark failed: those running (or reverting: the revert goes
    on), else the first that has not run."""
    atoms = [ad for ad in flow_detail if not ad.name.startswith('_')]
    if any(ad.state in (states.REVERTING, states.REVERTED,
                        states.REVERT_FAILURE, states.FAILURE)
           for ad in atoms):
        return []
    running = [ad.name for ad in atoms if ad.state == states.RUNNING]
    pending = [ad.name for ad in atoms
               if ad.state in (None, states.PENDING)]
    return running or pending[:1]


def _run(engine, backend, flow_detail, flow_name):
    try:
        engine.run()
    except KeyboardInterrupt:
        raise exceptions.JobInterrupted(flow=flow_name,
                                        job_id=flow_detail.uuid) from None
    except Exception as exc:
        cause = _root_cause(exc)
        failed = failed_reverts(flow_detail)
        _save_meta(backend, flow_detail, error=str(cause),
                   failed_reverts=failed)
        LOG.debug('Job %s (%s) failed', flow_detail.uuid, flow_name,
                  exc_info=True)
        if failed:
            raise exceptions.FlowRevertIncomplete(
                flow=flow_name, job_id=flow_detail.uuid, reason=cause,
                failed=', '.join(sorted(failed)))
        if isinstance(cause, exceptions.BackupFlowsError):
            raise cause
        raise exceptions.FlowFailed(flow=flow_name, job_id=flow_detail.uuid,
                                    reason=cause)
    cleanups = failed_cleanups(flow_detail)
    _save_meta(backend, flow_detail, error=None, failed_cleanups=cleanups)
    if cleanups:
        LOG.warning('Job %s (%s) finished; cleanup incomplete (%s): run '
                    '`backup-flows-manage job cleanup`', flow_detail.uuid,
                    flow_name, ', '.join(sorted(cleanups)))
    return engine.storage.fetch_all()


def _root_cause(exc):
    if isinstance(exc, tf_exc.WrappedFailure):
        for failure in exc:
            return failure.exception or exc
    return exc


def get_job(job_id):
    """The job ``job_id`` with its flow detail and atoms."""
    backend = persistence.get_backend()
    with contextlib.closing(backend.get_connection()) as conn:
        try:
            book = conn.get_logbook(job_id)
        except tf_exc.NotFound:
            raise exceptions.JobNotFound(job_id=job_id)
    flow_detail = book.find(job_id)
    if flow_detail is None:
        raise exceptions.JobNotFound(job_id=job_id)
    return Job.from_detail(flow_detail,
                           persistence.read_claim(backend, job_id))


def list_jobs():
    """Return every job, oldest first (without their atoms: two queries
    whatever the number of jobs)."""
    backend = persistence.get_backend()
    claims = persistence.read_claims(backend)
    jobs = [Job(uuid, state, meta, claims.get(uuid))
            for uuid, _name, state, meta
            in persistence.list_flow_details(backend)]
    return sorted(jobs, key=lambda job: job.meta.get('created_at') or '')


# Jobs `job purge` deletes: ended, and nothing of theirs left to clean up
# (`job cleanup` needs the record of a job whose revert or cleanup failed).
PURGEABLE_STATES = (states.SUCCESS, states.REVERTED)


def _ended_before(job, cutoff):
    stamp = job.meta.get('updated_at') or job.meta.get('created_at')
    return bool(stamp) and datetime.datetime.fromisoformat(stamp) < cutoff


def purge_jobs(older_than_days, dry_run=False):
    """Delete the records of jobs that ended ``older_than_days`` ago or
    more. Returns (purged, kept): the jobs deleted (or, with ``dry_run``,
    that would be) and the old ones kept, with why."""
    cutoff = (datetime.datetime.now(datetime.timezone.utc) -
              datetime.timedelta(days=older_than_days))
    purged, kept = [], []
    for job in list_jobs():
        if not _ended_before(job, cutoff):
            continue
        if job.state not in PURGEABLE_STATES:
            kept.append((job, 'it is %s' % job.state))
        elif job.meta.get('failed_reverts') or job.meta.get(
                'failed_cleanups'):
            kept.append((job, 'it left resources behind (job cleanup)'))
        else:
            purged.append(job)
    if not dry_run:
        persistence.delete_jobs(persistence.get_backend(),
                                [job.id for job in purged])
        LOG.info('Purged %d jobs that ended more than %d days ago',
                 len(purged), older_than_days)
    return purged, kept
