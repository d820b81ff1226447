"""Quiesce strategy ``pause``: every disk captured at one instant."""

from backup_flows import consistency
from backup_flows import quiesce
from backup_flows.tasks import server as server_tasks


class PauseQuiesce(quiesce.QuiesceStrategy):
    """Pause the server while all its disks are captured.

    Reaches ``crash-consistent-set``: every disk holds the same instant, as
    after a power cut. A server that is not running is captured as it is.
    """

    name = 'pause'
    level = consistency.CRASH_CONSISTENT_SET

    def freeze_tasks(self):
        return [server_tasks.PauseServer(name='pause-server')]

    def thaw_tasks(self):
        return [server_tasks.UnpauseServer(name='unpause-server')]
