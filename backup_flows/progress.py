"""Progress of long copies, reported as TaskFlow task progress.

Tasks never print: a copy counts its bytes in a :class:`ProgressMeter`,
which calls the task's ``update_progress(fraction, **details)`` now and
then. TaskFlow saves every update in the task's atom detail (a read and a
write of the persistence database), so the meter throttles: at most one
update per ``interval`` seconds, and only when the copy advanced by
``step`` of its size or has been quiet for ``idle`` seconds. Whoever runs
the engine decides how to show it (the CLI: ``backup_flows.cmd.progress``).
"""

import time

# Defaults: at most 2 updates a second and, on a long copy, about one per
# percent (a persisted update costs milliseconds; see bench/progress_cost.py).
INTERVAL = 0.5
STEP = 0.01
IDLE = 5.0


class ProgressMeter:
    """Counts the bytes of one copy and reports them, throttled.

    :param report: ``report(fraction, **details)``, a task's
        ``update_progress``.
    :param total: size of the copy in bytes (None when unknown: the
        fraction stays 0.0 and only ``done`` grows).
    :param details: small plain values sent with every update (the disk's
        name); ``done`` and ``total`` (bytes) are added.
    """

    def __init__(self, report, total=None, interval=INTERVAL, step=STEP,
                 idle=IDLE, clock=time.monotonic, **details):
        self.total = total
        self.done = 0
        self._report = report
        self._interval = interval
        self._step = step
        self._idle = idle
        self._clock = clock
        self._details = details
        self._last_time = None
        self._last_fraction = 0.0
        self._last_done = None
        self.updates = 0

    def fraction(self):
        if not self.total:
            return 0.0
        return min(1.0, self.done / self.total)

    def add(self, count):
        """Count ``count`` more bytes; report them if it is time to."""
        self.done += count
        now = self._clock()
        if self._last_time is not None:
            quiet = now - self._last_time
            if quiet < self._interval:
                return
            # (1e-9: a float sum of chunk fractions falls a hair short)
            if (self.total and quiet < self._idle and
                    self.fraction() - self._last_fraction
                    < self._step - 1e-9):
                return
        self._emit(now)

    def finish(self):
        """Report the final count (unless it was the last one reported)."""
        if self.done != self._last_done:
            self._emit(self._clock())

    def _emit(self, now):
        fraction = self.fraction()
        self._last_time = now
        self._last_fraction = fraction
        self._last_done = self.done
        self.updates += 1
        self._report(fraction, done=self.done, total=self.total,
                     **self._details)
