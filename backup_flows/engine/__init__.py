"""Runs backup-flows flows: the only package that touches TaskFlow engines
and persistence.

Every run is a *job*: one TaskFlow logbook holding one flow detail, both with
the job's id. The flow detail's ``meta`` holds the flow's factory and its
plain arguments as ``taskflow.engines.save_factory_details`` records them, so
any process can rebuild the flow and resume it from its persisted state (the
CLI's ``job resume``, a stock TaskFlow engine or conductor). A job is run by
the one process holding its claim (see :mod:`.persistence`); :mod:`.jobs`
lists, shows and purges jobs.
"""

import contextlib
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
from backup_flows import plugins
from backup_flows.engine import jobs
from backup_flows.engine import persistence
from backup_flows.engine import posting
from backup_flows.engine.jobs import INTERRUPTED  # noqa: F401 (engine API)
from backup_flows.engine.jobs import RESUMABLE_STATES
from backup_flows.engine.jobs import Job
from backup_flows.engine.jobs import claim_alive
from backup_flows.engine.jobs import failed_cleanups
from backup_flows.engine.jobs import failed_reverts
from backup_flows.engine.jobs import get_job  # noqa: F401 (engine API)
from backup_flows.engine.jobs import list_jobs  # noqa: F401 (engine API)
from backup_flows.engine.jobs import purge_jobs  # noqa: F401 (engine API)

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

_executor_lock = threading.Lock()


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


def _new_job(flow_name, flow_args, job_id):
    """(flow, book, flow detail) of a new job, saved in TaskFlow's format:
    the factory and its arguments as ``save_factory_details`` records
    them."""
    factory = plugins.load_flow_factory(flow_name)
    flow = _with_injected_failure(factory(**flow_args))
    book = models.LogBook(flow_name, uuid=job_id)
    flow_detail = models.FlowDetail(flow_name, uuid=job_id)
    flow_detail.meta.update({'flow': flow_name, 'created_at': jobs.now()})
    taskflow.engines.save_factory_details(flow_detail, factory, [],
                                          flow_args)
    book.add(flow_detail)
    return flow, book, flow_detail


def run_flow(flow_name, flow_args, store, job_id=None):
    """Run a flow to completion as a new job and return its job id and store.

    The job is saved in TaskFlow's own format: the flow's factory (the
    ``get_flow`` function of the plugin) and its arguments are recorded with
    ``taskflow.engines.save_factory_details``, and the store is persisted by
    the engine, so ``taskflow.engines.load_from_detail`` rebuilds the job in
    any process. With ``[engine] mode = jobboard`` the job is posted to the
    jobboard instead and this waits while a conductor runs it.

    :param flow_name: plugin name in the ``backup_flows.flows`` namespace.
    :param flow_args: plain keyword arguments of the flow's factory.
    :param store: plain initial values of the flow store.
    :raises: BackupFlowsError subclasses; the flow has been reverted.
    """
    job_id = job_id or uuidutils.generate_uuid()
    if CONF.engine.mode == 'jobboard':
        post_flow(flow_name, flow_args, store, job_id=job_id)
        return job_id, posting.wait_for_job(job_id)
    backend = persistence.get_backend()
    flow, book, flow_detail = _new_job(flow_name, flow_args, job_id)
    owner = jobs.owner()
    if not persistence.claim(backend, job_id, owner):
        raise _taken(backend, job_id)
    with _running(backend, job_id, owner):
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book)
        engine = _load_engine(flow, flow_detail, book, backend, store=store)
        LOG.info('Job %s (%s) started', job_id, flow_name)
        return job_id, _run(engine, backend, flow_detail, flow_name)


def post_flow(flow_name, flow_args, store, job_id=None):
    """Post a flow as a new job to the jobboard and return its id at once.

    The job is saved as :func:`run_flow` saves it (a conductor rebuilds it
    from the factory details); its initial store travels in the posting's
    details, as TaskFlow's conductors expect.
    """
    job_id = job_id or uuidutils.generate_uuid()
    backend = persistence.get_backend()
    _, book, flow_detail = _new_job(flow_name, flow_args, job_id)
    flow_detail.meta['posted_at'] = jobs.now()
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    try:
        posting.post(backend, book, flow_name, store)
    except BaseException:
        # a job no conductor will ever see must not be listed
        persistence.delete_jobs(backend, [job_id])
        raise
    LOG.info('Job %s (%s) posted to the jobboard', job_id, flow_name)
    return job_id


def stored_values(job):
    """The store of a job that succeeded (``run_flow``'s second value),
    read from its persisted state."""
    return posting.stored_values(job.flow_detail)


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
    job, backend, engine, _, owner = _reload(
        job_id, exceptions.JobNotResumable, 'resumed', 'resumed_at')
    with _running(backend, job_id, owner):
        return _run(engine, backend, job.flow_detail, job.flow)


def _refusal(refusal, job_id, state, verb):
    return refusal(job_id=job_id,
                   reason='it is %s (only an interrupted job can be %s)'
                          % (state, verb))


def _take_over(backend, job, refusal, verb):
    """Claim an interrupted job for this process; returns the owner."""
    if claim_alive(job.claim):
        raise _taken(backend, job.id)
    if job.state not in RESUMABLE_STATES:
        raise _refusal(refusal, job.id, job.state, verb)
    owner = jobs.owner()
    if not persistence.claim(backend, job.id, owner, taken_over=job.claim):
        raise _taken(backend, job.id)
    return owner


def _reload(job_id, refusal, verb, stamp, store=None):
    """(job, backend, engine, flow, owner) of an interrupted (or posted)
    job, claimed by this process (its meta ``stamp`` set); raises
    ``refusal`` for a job that is not interrupted, JobTaken for one that
    another process runs or has just claimed. ``store``: the initial
    store of a posted job, from its posting."""
    backend = persistence.get_backend()
    owner = _take_over(backend, get_job(job_id), refusal, verb)
    try:
        with contextlib.closing(backend.get_connection()) as conn:
            book = conn.get_logbook(job_id)
        job = Job.from_detail(book.find(job_id))
        # read again under the claim: it may have ended in between
        if job.raw_state not in RESUMABLE_STATES + (states.RUNNING,
                                                    states.REVERTING):
            raise _refusal(refusal, job_id, job.raw_state, verb)
        flow = _rebuild_flow(job)
        jobs.save_meta(backend, job.flow_detail, **{stamp: jobs.now()})
        engine = _load_engine(flow, job.flow_detail, book, backend,
                              store=store)
    except BaseException:
        persistence.release(backend, job_id, owner)
        raise
    return job, backend, engine, flow, owner


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
    job, backend, engine, flow, owner = _reload(
        job_id, exceptions.JobNotAbortable, 'aborted', 'aborted_at')
    with _running(backend, job_id, owner):
        _abort(job, backend, job.flow_detail, engine, flow)
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
    """Run ``engine`` to its end; its store, or None if it was suspended
    (a conductor lost its claim or is stopping: the job is resumed)."""
    try:
        engine.run()
    except KeyboardInterrupt:
        raise exceptions.JobInterrupted(flow=flow_name,
                                        job_id=flow_detail.uuid) from None
    except Exception as exc:
        cause = _root_cause(exc)
        failed = failed_reverts(flow_detail)
        LOG.debug('Job %s (%s) failed', flow_detail.uuid, flow_name,
                  exc_info=True)
        if failed:
            raised = exceptions.FlowRevertIncomplete(
                flow=flow_name, job_id=flow_detail.uuid, reason=cause,
                failed=', '.join(sorted(failed)))
        elif isinstance(cause, exceptions.BackupFlowsError):
            raised = cause
        else:
            raised = exceptions.FlowFailed(flow=flow_name,
                                           job_id=flow_detail.uuid,
                                           reason=cause)
        # ``failure``: what a caller waiting for a posted job raises
        jobs.save_meta(backend, flow_detail, error=str(cause),
                       failed_reverts=failed, ended_at=jobs.now(),
                       failure={'message': str(raised),
                                'exit_code': raised.exit_code})
        raise raised
    if engine.storage.get_flow_state() == states.SUSPENDED:
        LOG.info('Job %s (%s) suspended', flow_detail.uuid, flow_name)
        return None
    cleanups = failed_cleanups(flow_detail)
    jobs.save_meta(backend, flow_detail, error=None, failure=None,
                   failed_cleanups=cleanups, ended_at=jobs.now())
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


