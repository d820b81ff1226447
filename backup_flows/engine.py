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
    """A persisted flow run, as shown by ``job list`` and ``job show``."""

    def __init__(self, flow_detail):
        self.flow_detail = flow_detail
        self.meta = dict(flow_detail.meta or {})

    @property
    def id(self):
        return self.flow_detail.uuid

    @property
    def flow(self):
        return self.meta.get('flow')

    @property
    def state(self):
        state = self.flow_detail.state or states.PENDING
        if (state in (states.RUNNING, states.REVERTING)
                and not self._owner_alive()):
            return INTERRUPTED
        return state

    def _owner_alive(self):
        owner = self.meta.get('owner') or {}
        if owner.get('host') != socket.gethostname():
            # Another host's process: without a jobboard claim we cannot
            # tell, so assume it still runs.
            return True
        pid = owner.get('pid')
        if not pid:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return _process_start(pid) == owner.get('started')

    def to_dict(self):
        return {
            'id': self.id,
            'flow': self.flow,
            'state': self.state,
            'created_at': self.meta.get('created_at'),
            'updated_at': self.meta.get('updated_at'),
            'args': self.meta.get('args', {}),
            'error': self.meta.get('error'),
            # {task: error} of reverts that failed: what they should have
            # removed may be left in the cloud, tagged with the job id
            'failed_reverts': self.meta.get('failed_reverts') or {},
            # {task: error} of best-effort cleanups that failed after the
            # commit point: `job cleanup` removes what they left
            'failed_cleanups': self.meta.get('failed_cleanups') or {},
            'tasks': [{'name': ad.name, 'state': ad.state}
                      for ad in self.flow_detail],
        }


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


def build_flow(flow_name, flow_args):
    """Rebuild a flow from its plugin name and factory arguments."""
    factory = plugins.load_flow_factory(flow_name)
    flow = factory(**flow_args)
    end_failure = faults.end_of_flow_task()
    if end_failure is not None:
        flow = linear_flow.Flow(flow.name + '-with-injected-failure').add(
            flow, end_failure)
    return flow


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

    :param flow_name: plugin name in the ``backup_flows.flows`` namespace.
    :param flow_args: plain keyword arguments of the flow's factory.
    :param store: plain initial values of the flow store.
    :raises: BackupFlowsError subclasses; the flow has been reverted.
    """
    backend = persistence.get_backend()
    job_id = job_id or uuidutils.generate_uuid()
    flow = build_flow(flow_name, flow_args)
    book = models.LogBook(flow_name, uuid=job_id)
    flow_detail = models.FlowDetail(flow_name, uuid=job_id)
    flow_detail.meta.update({'flow': flow_name, 'args': flow_args,
                             'created_at': _now(), 'owner': _owner()})
    book.add(flow_detail)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    engine = _load_engine(flow, flow_detail, book, backend, store=store)
    LOG.info('Job %s (%s) started', job_id, flow_name)
    return job_id, _run(engine, backend, flow_detail, flow_name)


def resume_job(job_id):
    """Resume an interrupted job from its persisted state.

    Finished tasks are not run again; the interrupted one runs again from its
    start (tasks are written to be safe to re-run).
    """
    job, backend, flow_detail, engine, _ = _reload(
        job_id, exceptions.JobNotResumable, 'resumed', 'resumed_at')
    return _run(engine, backend, flow_detail, job.flow)


def _reload(job_id, refusal, verb, stamp):
    """(job, backend, flow detail, engine, flow) of an interrupted job, taken
    over by this process (its meta ``stamp`` set); raises ``refusal`` for a
    job that is not interrupted."""
    backend = persistence.get_backend()
    job = get_job(job_id)
    if job.state not in RESUMABLE_STATES:
        raise refusal(job_id=job_id,
                      reason='it is %s (only an interrupted job can be %s)'
                             % (job.state, verb))
    with contextlib.closing(backend.get_connection()) as conn:
        book = conn.get_logbook(job_id)
    flow_detail = book.find(job_id) or job.flow_detail
    flow = build_flow(job.flow, job.meta.get('args', {}))
    _save_meta(backend, flow_detail, owner=_owner(), **{stamp: _now()})
    return job, backend, flow_detail, _load_engine(flow, flow_detail, book,
                                                   backend), flow


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
    job, backend, flow_detail, engine, flow = _reload(
        job_id, exceptions.JobNotAbortable, 'aborted', 'aborted_at')
    committed = _committed(flow, flow_detail)
    if committed:
        LOG.warning('Job %s passed its point of no return (task %s): '
                    'finishing it instead of reverting it', job_id,
                    committed)
        _run(engine, backend, flow_detail, job.flow)
        return get_job(job_id)
    engine.compile()
    engine.prepare()
    aborted = exceptions.JobAborted(job_id=job_id)
    for name in _interrupted_atoms(flow_detail):
        engine.storage.save(name, failure.Failure.from_exception(aborted),
                            states.FAILURE)
    try:
        _run(engine, backend, flow_detail, job.flow)
    except exceptions.JobAborted:
        pass
    return get_job(job_id)


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
    backend = persistence.get_backend()
    with contextlib.closing(backend.get_connection()) as conn:
        try:
            book = conn.get_logbook(job_id)
        except tf_exc.NotFound:
            raise exceptions.JobNotFound(job_id=job_id)
    flow_detail = book.find(job_id)
    if flow_detail is None:
        raise exceptions.JobNotFound(job_id=job_id)
    return Job(flow_detail)


def list_jobs():
    """Return every job, oldest first."""
    backend = persistence.get_backend()
    with contextlib.closing(backend.get_connection()) as conn:
        books = list(conn.get_logbooks())
    jobs = [Job(fd) for book in books for fd in book]
    return sorted(jobs, key=lambda job: job.meta.get('created_at') or '')
