"""Base class of every backup-flows task."""

import functools

from oslo_log import log as logging
from taskflow import task

from backup_flows import exceptions
from backup_flows import faults
from backup_flows import keys

LOG = logging.getLogger(__name__)


def _guarded(revert):
    """Wrap a task's revert so that it never raises.

    In TaskFlow a revert that raises stops the reverting: the tasks before
    it (unpause, start the server again) would never be undone. The error
    is logged and recorded instead, and the rest of the chain runs.
    """

    @functools.wraps(revert)
    def guarded(self, *args, **kwargs):
        try:
            faults.fail_revert_if_requested(self.name)
            return revert(self, *args, **kwargs)
        except Exception as exc:
            LOG.error('Revert of task %s failed: %s; what it should have '
                      'removed may be left behind (it carries the job id)',
                      self.name, exc)
            LOG.debug('Revert of task %s failed', self.name, exc_info=True)
            # persisted by TaskFlow as the atom's revert result
            return {keys.REVERT_FAILED: '%s: %s' % (type(exc).__name__, exc)}

    return guarded


def _injectable(execute):
    """Wrap a task's execute: fault injection first (tests), and for a
    best-effort task, errors logged and recorded instead of raised."""

    @functools.wraps(execute)
    def run(self, *args, **kwargs):
        try:
            faults.fail_if_requested(self.name)
            return execute(self, *args, **kwargs)
        except Exception as exc:
            if not self.best_effort:
                raise
            LOG.warning('Task %s failed: %s; the job goes on (best effort) '
                        'and `job cleanup` removes what it left behind',
                        self.name, exc)
            LOG.debug('Task %s failed', self.name, exc_info=True)
            # persisted by TaskFlow as the atom's result
            return {keys.CLEANUP_FAILED: '%s: %s' % (type(exc).__name__,
                                                      exc)}

    return run


def delete_each(kind, ids, delete):
    """Revert helper: ``delete(id)`` every one of ``ids``, then raise one
    CleanupIncomplete naming those that could not be deleted."""
    left = []
    for ident in sorted(ids):
        LOG.info('Deleting %s %s (revert)', kind, ident)
        try:
            delete(ident)
        except Exception as exc:
            LOG.warning('Could not delete %s %s: %s', kind, ident, exc)
            left.append(ident)
    if left:
        raise exceptions.CleanupIncomplete(kind=kind, ids=', '.join(left))


def adopt(kind, existing):
    """Execute helper: the id of the first of ``existing`` (what a run
    before a restart created), else ``None``."""
    if not existing:
        return None
    LOG.info('Adopting %s %s created before a restart', kind, existing[0].id)
    return existing[0].id


def delete_found(kind, found, result, delete):
    """Revert helper: :func:`delete_each` of the resources ``found`` (of
    this job) and of the id ``result`` (what execute returned, if it got
    that far); returns the ids."""
    ids = {res.id for res in found}
    if isinstance(result, str):
        ids.add(result)
    delete_each(kind, ids, delete)
    return ids


class BackupFlowsTask(task.Task):
    """A task with one side effect; its docstring says how it reverts.

    Subclasses name their atoms explicitly (atom names are persisted
    identities) and keep only plain data in what they require and provide.
    Every ``revert`` a subclass defines is guarded: it never raises (see
    ``_guarded``). A task built with ``best_effort=True`` (cleanup after a
    flow's commit point) never fails the flow either: its error is logged
    and returned under ``keys.CLEANUP_FAILED`` (see
    :func:`backup_flows.engine.failed_cleanups`); such a task provides
    nothing other tasks need.
    """

    #: Once a task with this flag has succeeded, the job's outcome is kept:
    #: ``job abort`` finishes the job instead of reverting it. A class sets
    #: it, or a flow factory with ``point_of_no_return=True``.
    point_of_no_return = False

    def __init__(self, *args, best_effort=False, point_of_no_return=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.best_effort = best_effort
        if point_of_no_return is not None:
            self.point_of_no_return = point_of_no_return

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'revert' in cls.__dict__:
            cls.revert = _guarded(cls.__dict__['revert'])
        if 'execute' in cls.__dict__:
            cls.execute = _injectable(cls.__dict__['execute'])

    def update_progress(self, progress, **details):
        """Report progress (0.0 to 1.0) and small plain ``details`` (the
        disk's name, bytes done and total).

        TaskFlow saves both in the task's atom detail (``progress`` and
        ``progress_details`` of its meta) and passes them to the listeners
        of the task's notifier; callers throttle (see
        :class:`backup_flows.progress.ProgressMeter`).
        """
        if not details:
            super().update_progress(progress)
            return
        self.notifier.notify(task.EVENT_UPDATE_PROGRESS,
                             dict(details, progress=min(1.0, max(0.0,
                                                                 progress))))
