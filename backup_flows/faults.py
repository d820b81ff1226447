"""Failure injection for tests of reverts.

When the environment variable ``BACKUP_FLOWS_FAIL_BEFORE_TASK`` names a task
(its atom name), that task fails before it starts, after every task it
depends on has finished, so the flow reverts from that point. The value
``@end`` adds a failing task after the whole flow. Test use only: it is read
at run time and does nothing when unset.
"""

import os

from taskflow import task

ENV_VAR = 'BACKUP_FLOWS_FAIL_BEFORE_TASK'
END_OF_FLOW = '@end'


class InjectedFailure(Exception):
    """The failure raised on purpose by a test."""


def fail_if_requested(atom_name):
    """Raise InjectedFailure when the environment names ``atom_name``."""
    if os.environ.get(ENV_VAR) == atom_name:
        raise InjectedFailure('failure injected before task %s' % atom_name)


class FailFlow(task.Task):
    """Fails on purpose once the flow before it has finished.

    Reversion strategy: nothing to undo.
    """

    def execute(self):
        raise InjectedFailure('failure injected at the end of the flow')


def end_of_flow_task():
    """Return the failing end task when the environment asks for one."""
    if os.environ.get(ENV_VAR) == END_OF_FLOW:
        return FailFlow(name='inject-failure-at-end')
    return None
