"""Quiesce strategies (``backup_flows.quiesce`` plugins).

A strategy plans how a server is held still while its disks are captured
and returns the tasks that do it. Planning happens before the flow is built
(it needs the server's facts); the tasks themselves take only plain data.
"""

import abc

from backup_flows import consistency


class Plan(dict):
    """Outcome of planning: plain data stored with the job.

    Keys: ``mode`` (the strategy that runs), ``consistency`` (the level it
    achieves), ``requested`` (the level asked for) and ``downgrade`` (why the
    requested level is not reached, or None).
    """


class QuiesceStrategy(metaclass=abc.ABCMeta):
    """Base of every quiesce plugin."""

    #: Level reached when the strategy works as intended.
    level = consistency.CRASH

    def plan(self, server, require_consistency):
        """Return the Plan for ``server`` (a dict of server facts).

        :raises: ConsistencyNotReached when the level cannot be reached and
            ``require_consistency`` is set.
        """
        level = self.level
        if server.get('status') == 'SHUTOFF':
            # A server that is shut down does not write: every disk is cold.
            level = consistency.COLD
        return Plan(mode=self.name, consistency=level, requested=self.level,
                    downgrade=None)

    @property
    @abc.abstractmethod
    def name(self):
        """Short plugin name."""

    def freeze_tasks(self):
        """Tasks run before the disks are captured."""
        return []

    def thaw_tasks(self):
        """Tasks run after every disk is captured."""
        return []
