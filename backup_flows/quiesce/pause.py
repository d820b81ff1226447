"""Quiesce strategy ``pause``: every disk captured at one instant."""

from backup_flows import consistency
from backup_flows import quiesce
from backup_flows.tasks import server as server_tasks


class PauseQuiesce(quiesce.QuiesceStrategy):
    """Pause the server while all its disks are captured.

    Reaches ``crash-consistent-set``: every disk holds the same instant, as
    after a power cut. A server that is not running is captured as it is;
    one with a single disk is not paused at all (Nova or Cinder capture one
    disk at one instant), so its guest never stops.
    """

    name = 'pause'
    level = consistency.CRASH_CONSISTENT_SET

    def plan_running(self, server, require_consistency):
        mode, level = quiesce.one_instant_mode(server)
        if level != self.level:
            return self.downgrade(
                server, mode, level, require_consistency,
                'its image requires quiescing (os_require_quiesce=yes), so '
                'Nova cannot snapshot it paused; each disk is captured on '
                'its own, the root disk frozen by Nova')
        return self._plan(server, mode, level)

    def freeze_tasks(self):
        return [server_tasks.PauseServer(name='pause-server')]

    def thaw_tasks(self):
        return [server_tasks.UnpauseServer(name='unpause-server')]
