"""Failure injection for tests of reverts ([fault_injection] options).

``fail_before_task`` names a task (its atom name) that fails before it
starts, after every task it depends on has finished, so the flow reverts
from that point; ``@end`` adds a failing task after the whole flow.
``fail_revert_of_task`` names a task whose revert fails before it does
anything; ``hang_before_task`` one before which the flow waits, so that a
test can kill the process there. All are unset by default and read at run
time.
"""

import time

from oslo_log import log as logging
from taskflow import task

from backup_flows import conf as bf_conf

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)
END_OF_FLOW = '@end'
HANG_SECONDS = 600


class InjectedFailure(Exception):
    """The failure raised on purpose by a test."""


def fail_if_requested(atom_name):
    """Raise InjectedFailure when configured to fail before ``atom_name``
    (or wait there when configured to hang before it)."""
    if CONF.fault_injection.hang_before_task == atom_name:
        LOG.warning('Hanging before task %s (fault injection)', atom_name)
        time.sleep(HANG_SECONDS)
    if CONF.fault_injection.fail_before_task == atom_name:
        raise InjectedFailure('failure injected before task %s' % atom_name)


def fail_revert_if_requested(atom_name):
    """Raise InjectedFailure when configured to fail the revert of
    ``atom_name``."""
    if CONF.fault_injection.fail_revert_of_task == atom_name:
        raise InjectedFailure('failure injected in the revert of task %s'
                              % atom_name)


class FailFlow(task.Task):
    """Fails on purpose once the flow before it has finished.

    Reversion strategy: nothing to undo.
    """

    def execute(self):
        raise InjectedFailure('failure injected at the end of the flow')


def end_of_flow_task():
    """Return the failing end task when configured to fail at the end."""
    if CONF.fault_injection.fail_before_task == END_OF_FLOW:
        return FailFlow(name='inject-failure-at-end')
    return None
