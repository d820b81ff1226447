"""Quiesce strategy ``none``: disks are captured one by one, server running."""

from backup_flows import consistency
from backup_flows import quiesce


class NoQuiesce(quiesce.QuiesceStrategy):
    """Capture each disk while the server runs (``crash`` consistency)."""

    name = 'none'
    level = consistency.CRASH
