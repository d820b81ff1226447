"""Identity of a local process, to tell whether it still runs.

A pid alone is not enough: pids are reused, and containers share host
names but not pid namespaces. A process is named by its pid and its start
time, within this boot and pid namespace. Imports nothing of backup_flows,
so that every layer (the repository included) can use it.
"""

import os


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def start_time(pid):
    """Start time of process ``pid`` in clock ticks (tells reused pids
    apart), ``None`` if there is no such process."""
    stat = _read('/proc/%d/stat' % pid) if isinstance(pid, int) else None
    try:
        return int(stat.rsplit(')', 1)[1].split()[19])
    except (AttributeError, IndexError, ValueError):
        return None


def namespace():
    """(boot id, pid namespace) of this process: a pid names the same
    process only within both."""
    try:
        pid_ns = os.readlink('/proc/self/ns/pid')
    except OSError:
        pid_ns = None
    return _read('/proc/sys/kernel/random/boot_id'), pid_ns
