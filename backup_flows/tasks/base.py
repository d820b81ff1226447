"""Base class of every backup-flows task."""

from taskflow import task

from backup_flows import faults


class BackupFlowsTask(task.Task):
    """A task with one side effect; its docstring says how it reverts.

    Subclasses name their atoms explicitly (atom names are persisted
    identities) and keep only plain data in what they require and provide.
    """

    def pre_execute(self):
        faults.fail_if_requested(self.name)
        super().pre_execute()
