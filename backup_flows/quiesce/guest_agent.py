"""Quiesce strategy ``guest-agent``: Nova freezes the guest's filesystems.

Nova offers no API to hold a guest freeze; it freezes the filesystems itself,
through the QEMU guest agent, around the captures it makes: the root disk of
an image-backed server during ``createImage`` (live snapshot). So the
``filesystem`` level is reached for a server whose only disk is its root
disk and whose image declares ``hw_qemu_guest_agent=yes``.

Otherwise the level cannot be reached: with ``require_consistency`` the
snapshot fails before anything is created; without it the strategy
downgrades, explicitly, to ``pause`` (every disk at one instant) and records
why.
"""

from oslo_log import log as logging

from backup_flows import consistency
from backup_flows import exceptions
from backup_flows import quiesce
from backup_flows.quiesce import pause

LOG = logging.getLogger(__name__)


class GuestAgentQuiesce(quiesce.QuiesceStrategy):
    """Freeze filesystems through Nova and the QEMU guest agent."""

    name = 'guest-agent'
    level = consistency.FILESYSTEM

    def plan(self, server, require_consistency):
        reason = None
        if server.get('status') == 'SHUTOFF':
            pass
        elif not server.get('guest_agent'):
            reason = ('its image does not declare a QEMU guest agent '
                      '(hw_qemu_guest_agent=yes)')
        elif server.get('root', {}).get('kind') != 'image':
            reason = ('Nova freezes a boot-from-volume server only inside '
                      'its own createImage, which this flow does not use')
        elif server.get('volumes'):
            reason = ('Nova cannot hold a filesystem freeze across the root '
                      'image and the Cinder snapshots of attached volumes')
        if reason is None:
            return super().plan(server, require_consistency)
        if require_consistency:
            raise exceptions.ConsistencyNotReached(
                requested=self.level, server=server['id'], reason=reason)
        LOG.warning('Server %(server)s: %(level)s consistency cannot be '
                    'reached (%(reason)s); pausing the server instead.',
                    {'server': server['id'], 'level': self.level,
                     'reason': reason})
        return quiesce.Plan(mode=pause.PauseQuiesce.name,
                            consistency=pause.PauseQuiesce.level,
                            requested=self.level, downgrade=reason)
