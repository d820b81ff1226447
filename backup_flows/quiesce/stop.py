"""Quiesce strategy ``stop``: the server is shut down during the capture."""

from backup_flows import consistency
from backup_flows import quiesce
from backup_flows.tasks import server as server_tasks


class StopQuiesce(quiesce.QuiesceStrategy):
    """Stop the server, capture every disk, start it again (``cold``)."""

    name = 'stop'
    level = consistency.COLD

    def freeze_tasks(self):
        return [server_tasks.StopServer(name='stop-server')]

    def thaw_tasks(self):
        return [server_tasks.StartServer(name='start-server')]
