"""Quiesce strategy ``guest-agent``: Nova freezes the guest's filesystems.

Nova offers no API to hold a guest freeze; it freezes the filesystems itself,
through the QEMU guest agent, around the captures it makes: the root disk of
an image-backed server during ``createImage`` (live snapshot). And it
reports a failed freeze only when the image requires one
(``os_require_quiesce=yes``: the snapshot then fails); otherwise it goes on
silently. So the ``filesystem`` level is recorded only for a running server
whose only disk is its root disk and whose image declares both
``hw_qemu_guest_agent=yes`` and ``os_require_quiesce=yes``: then a snapshot
that exists was taken frozen.

Otherwise the level cannot be reached, or not confirmed: with
``require_consistency`` the flow fails before anything is created; without
it the strategy downgrades, explicitly, to every disk at one instant
(``crash-consistent-set``: Nova still freezes what it can) and records why.
"""

from backup_flows import consistency
from backup_flows import quiesce


class GuestAgentQuiesce(quiesce.QuiesceStrategy):
    """Freeze filesystems through Nova and the QEMU guest agent."""

    name = 'guest-agent'
    level = consistency.FILESYSTEM

    def plan_running(self, server, require_consistency):
        reason = None
        if not server.get('guest_agent'):
            reason = ('its image does not declare a QEMU guest agent '
                      '(hw_qemu_guest_agent=yes)')
        elif server.get('root', {}).get('kind') != 'image':
            reason = ('Nova freezes a boot-from-volume server only inside '
                      'its own createImage, which this flow does not use')
        elif server.get('volumes'):
            reason = ('Nova cannot hold a filesystem freeze across the root '
                      'image and the Cinder snapshots of attached volumes')
        elif not server.get('require_quiesce'):
            reason = ('its image does not require quiescing '
                      '(os_require_quiesce=yes), so Nova would not report a '
                      'guest agent that fails to freeze the filesystems')
        if reason is None:
            return self._plan(server, self.name, self.level)
        mode, level = quiesce.one_instant_mode(server)
        return self.downgrade(server, mode, level, require_consistency,
                              reason)
