"""Consistency levels a snapshot or backup records, weakest first."""

CRASH = 'crash'
CRASH_CONSISTENT_SET = 'crash-consistent-set'
FILESYSTEM = 'filesystem'
COLD = 'cold'

LEVELS = (CRASH, CRASH_CONSISTENT_SET, FILESYSTEM, COLD)


def rank(level):
    """Order of ``level`` in LEVELS (weakest 0)."""
    return LEVELS.index(level)
