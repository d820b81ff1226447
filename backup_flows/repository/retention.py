"""Retention policy: which backups to keep, per server.

For each server, backups are sorted newest first. ``keep_last`` keeps the N
newest. ``hourly``/``daily``/``weekly``/``monthly``/``yearly`` keep, for each
of the N most recent hours/days/ISO weeks/months/years that have a backup,
the newest backup of that period (the same rules as restic and borg). A
backup kept by any rule is kept. A policy with every count at 0 keeps
everything.
"""

import dataclasses

from backup_flows import exceptions

_PERIODS = (
    ('hourly', lambda t: (t.year, t.month, t.day, t.hour)),
    ('daily', lambda t: (t.year, t.month, t.day)),
    ('weekly', lambda t: tuple(t.isocalendar())[:2]),
    ('monthly', lambda t: (t.year, t.month)),
    ('yearly', lambda t: (t.year,)),
)


@dataclasses.dataclass
class Policy:
    """How many backups to keep per server and rule."""

    keep_last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            # bool is an int, but True keeps nobody knows how many
            if (not isinstance(value, int) or isinstance(value, bool) or
                    value < 0):
                raise exceptions.InvalidInput(
                    reason='retention %s must be a whole number >= 0, not '
                           '%r' % (field.name, value))

    def empty(self):
        """Whether the policy keeps everything."""
        return not any(dataclasses.astuple(self))


def select(backups, policy):
    """Split backups into kept and forgotten.

    :param backups: iterable of ``(backup_id, server, created_at)``.
    :returns: ``(keep, forget)``: ``keep`` maps backup id -> list of rule
        names that keep it; ``forget`` is a list of backup ids.
    """
    by_server = {}
    for backup_id, server, created in backups:
        by_server.setdefault(server, []).append((created, backup_id))
    keep, forget = {}, []
    for items in by_server.values():
        items.sort(reverse=True)
        if policy.empty():
            keep.update((backup_id, ['all']) for _, backup_id in items)
            continue
        for _, backup_id in items[:policy.keep_last]:
            keep.setdefault(backup_id, []).append('last')
        for rule, bucket in _PERIODS:
            count = getattr(policy, rule)
            seen = set()
            for created, backup_id in items:
                if len(seen) >= count:
                    break
                period = bucket(created)
                if period in seen:
                    continue
                seen.add(period)
                keep.setdefault(backup_id, []).append(rule)
        forget.extend(backup_id for _, backup_id in items
                      if backup_id not in keep)
    return keep, sorted(forget)
