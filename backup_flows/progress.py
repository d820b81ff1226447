"""Progress of long copies: a line on a terminal, log lines otherwise."""

import sys
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_MIB = 1 << 20


class Progress:
    """Counts bytes of one copy and reports ``done / total`` now and then.

    On a terminal (stderr is a TTY) it rewrites one line at most twice a
    second; otherwise it logs at every quarter.
    """

    def __init__(self, label, total=None, stream=None):
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._tty = hasattr(self._stream, 'isatty') and self._stream.isatty()
        self._last = 0.0
        self._quarter = 0
        self._start = time.monotonic()

    def add(self, count):
        self.done += count
        now = time.monotonic()
        if self._tty and now - self._last >= 0.5:
            self._last = now
            self._stream.write('\r%s' % self.line())
            self._stream.flush()
        elif not self._tty and self.total:
            quarter = min(4, self.done * 4 // self.total)
            if quarter > self._quarter:
                self._quarter = quarter
                LOG.info('%s', self.line())

    def line(self):
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = self.done / elapsed / _MIB
        if self.total:
            return '%s: %.1f / %.1f MiB (%d%%), %.1f MiB/s' % (
                self.label, self.done / _MIB, self.total / _MIB,
                self.done * 100 // self.total, rate)
        return '%s: %.1f MiB, %.1f MiB/s' % (self.label, self.done / _MIB,
                                            rate)

    def finish(self):
        if self._tty:
            self._stream.write('\r%s\n' % self.line())
            self._stream.flush()
        elif self._quarter < 4:
            LOG.info('%s', self.line())
