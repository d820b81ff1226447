"""Quiesce strategies (``backup_flows.quiesce`` plugins).

A strategy plans how a server is held still while its disks are captured
and returns the tasks that do it. Planning happens just before the flow
runs, from the server's status then (the flow's first task checks the
status is still the planned one); the tasks themselves take only plain
data.

The level recorded is the level reached, never more: a server that does
not run (PAUSED, SUSPENDED) is captured as it is, every disk at one
instant; one that is shut down is ``cold`` whatever the mode.
"""

import abc

from oslo_log import log as logging

from backup_flows import consistency
from backup_flows import exceptions

LOG = logging.getLogger(__name__)

# Statuses whose guest does not run: its disks do not change while they
# are captured, but it cannot be frozen or shut down cleanly either.
NOT_RUNNING = ('PAUSED', 'SUSPENDED')


class Plan(dict):
    """Outcome of planning: plain data stored with the job.

    Keys: ``mode`` (the strategy that runs), ``consistency`` (the level it
    achieves), ``requested`` (the level asked for), ``downgrade`` (why the
    requested level is not reached, or None) and ``status`` (the server's
    status it was planned from).
    """


def nova_must_freeze(server):
    """Whether Nova fails a snapshot of the root image it cannot freeze
    (image with a guest agent and ``os_require_quiesce=yes``)."""
    return (server.get('root', {}).get('kind') == 'image' and
            server.get('guest_agent') and server.get('require_quiesce'))


def disk_count(server):
    return 1 + len(server.get('volumes') or ())


def one_instant_mode(server):
    """(mode, level) capturing every disk of a running server at one
    instant if possible: a single disk is captured at one instant by Nova
    or Cinder without pausing; several need the server paused, unless Nova
    must freeze it (it cannot snapshot it paused): then each disk is
    captured on its own (``crash``)."""
    if disk_count(server) == 1:
        return 'none', consistency.CRASH_CONSISTENT_SET
    if nova_must_freeze(server):
        return 'none', consistency.CRASH
    return 'pause', consistency.CRASH_CONSISTENT_SET


class QuiesceStrategy(metaclass=abc.ABCMeta):
    """Base of every quiesce plugin."""

    #: Level reached when the strategy works as intended.
    level = consistency.CRASH

    def plan(self, server, require_consistency):
        """Return the Plan for ``server`` (a dict of server facts).

        :raises: ConsistencyNotReached when the level cannot be reached and
            ``require_consistency`` is set.
        """
        status = server.get('status')
        if status == 'SHUTOFF':
            # A server that is shut down does not write: every disk is cold.
            return self._plan(server, self.name, consistency.COLD)
        if status in NOT_RUNNING:
            return self._not_running(server, require_consistency)
        return self.plan_running(server, require_consistency)

    def plan_running(self, server, require_consistency):
        """The Plan for an ACTIVE server (strategies override this)."""
        return self._plan(server, self.name, self.level)

    def _not_running(self, server, require_consistency):
        if nova_must_freeze(server):
            raise exceptions.InvalidServerState(
                server=server['id'], state=server['status'],
                action='capture', expected=(
                    'ACTIVE or SHUTOFF: its image requires quiescing '
                    '(os_require_quiesce=yes) and Nova cannot freeze a guest '
                    'that does not run, so it would fail the snapshot'))
        achieved = consistency.CRASH_CONSISTENT_SET
        if consistency.rank(self.level) <= consistency.rank(achieved):
            return self._plan(server, self.name, achieved)
        return self.downgrade(
            server, self.name, achieved, require_consistency,
            'the server is %s: its guest does not run, so it can be neither '
            'frozen nor shut down cleanly; its disks are captured as they '
            'are, at one instant' % server['status'])

    def _plan(self, server, mode, level, downgrade=None):
        return Plan(mode=mode, consistency=level, requested=self.level,
                    downgrade=downgrade, status=server.get('status'))

    def downgrade(self, server, mode, level, require_consistency, reason):
        """The Plan reaching ``level`` instead of the strategy's own, or
        ConsistencyNotReached when the caller requires its own."""
        if require_consistency:
            raise exceptions.ConsistencyNotReached(
                requested=self.level, server=server['id'], reason=reason)
        LOG.warning('Server %(server)s: %(level)s consistency cannot be '
                    'reached (%(reason)s); recording %(got)s instead.',
                    {'server': server['id'], 'level': self.level,
                     'reason': reason, 'got': level})
        return self._plan(server, mode, level, downgrade=reason)

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
