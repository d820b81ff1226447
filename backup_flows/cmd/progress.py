"""Progress lines of the CLI, rendered from TaskFlow progress events.

Tasks report a copy's progress with ``update_progress(fraction, done=...,
total=..., disk=...)`` (see :mod:`backup_flows.progress`); a
:class:`ProgressListener` attached to each engine passes those events to
one :class:`ProgressDisplay` per process, which writes to stderr (stdout
carries the command's tables and JSON):

- on a terminal, one line per copying task, the block of lines redrawn in
  place (ANSI cursor-up) as the disks progress side by side; log records
  written meanwhile appear above the block (see :meth:`capture_logging`);
- otherwise (a pipe, CI, a service's log), plain lines: a task's first
  update, then at most one line per ``step`` of its size or per
  ``interval`` seconds, and its end.
"""

import functools
import logging as py_logging
import os
import shutil
import sys
import threading
import time

from taskflow import states
from taskflow import task as tf_task
from taskflow.listeners import base as listener_base

_MIB = 1 << 20
_UP = '\x1b[%dA\r'
_CLEAR_LINE = '\x1b[2K'
_CLEAR_DOWN = '\x1b[J'

_TASK_STATES = (states.RUNNING, states.SUCCESS, states.FAILURE,
                states.REVERTED, states.REVERT_FAILURE)
_FLOW_END_STATES = (states.SUCCESS, states.FAILURE, states.REVERTED,
                    states.SUSPENDED)
_ENDS = {states.SUCCESS: 'done', states.FAILURE: 'failed',
         states.REVERTED: 'reverted', states.REVERT_FAILURE: 'reverted'}


def _mib(count):
    return '%.1f' % (count / _MIB)


class _Line:
    """What is known of one task's copy."""

    def __init__(self, name, start):
        self.name = name
        self.start = start
        self.done = 0
        self.total = None
        self.end = None
        self.ended_at = None
        self.printed_at = None
        self.printed_fraction = 0.0

    def fraction(self):
        return min(1.0, self.done / self.total) if self.total else 0.0

    def text(self, now):
        elapsed = (self.ended_at or now) - self.start
        if self.total:
            amount = '%s / %s MiB (%d%%)' % (
                _mib(self.done), _mib(self.total), self.fraction() * 100)
        else:
            amount = '%s MiB' % _mib(self.done)
        if self.end == 'done':
            text = '%s: %s MiB done in %.1f s' % (self.name, _mib(self.done),
                                                 elapsed)
        elif self.end:
            return '%s: %s at %s' % (self.name, self.end, amount)
        else:
            text = '%s: %s' % (self.name, amount)
        if elapsed >= 0.5:
            text += ', %.1f MiB/s' % (self.done / elapsed / _MIB)
        return text


class ProgressDisplay:
    """Renders the progress of every engine of the process; thread-safe.

    :param stream: where to write (default: ``sys.stderr``).
    :param tty: redraw a block in place; default: whether the stream is a
        terminal.
    :param interval: plain lines: at most one per task per ``interval``
        seconds, unless it advanced ``step`` of its size.
    """

    def __init__(self, stream=None, tty=None, interval=30.0, step=0.25,
                 clock=time.monotonic):
        self._stream = stream or sys.stderr
        if tty is None:
            isatty = getattr(self._stream, 'isatty', None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._interval = interval
        self._step = step
        self._clock = clock
        self._lock = threading.RLock()
        self._lines = {}
        self._block = []
        self._drawn = 0

    def listener(self, engine):
        """A listener feeding this display from ``engine`` (a listener
        factory for :func:`backup_flows.operations.add_listener_factory`)."""
        return ProgressListener(engine, self)

    def update(self, key, name, done, total=None, start=None):
        """Task ``name`` (``key``: unique in the process) copied ``done``
        bytes of ``total``."""
        with self._lock:
            now = self._clock()
            line = self._lines.get(key)
            if line is None or line.end:
                line = self._lines[key] = _Line(
                    name, now if start is None else start)
                if self.tty and key not in self._block:
                    self._block.append(key)
            line.done, line.total = done, total
            if self.tty:
                self._redraw(now)
            elif line.fraction() < 1.0 and self._due(line, now):
                # (a copy at 100% gets its "done" line when its task ends)
                self._print(line, now)

    def end(self, key, state):
        """Task of ``key`` ended in TaskFlow ``state``."""
        with self._lock:
            line = self._lines.get(key)
            if line is None or line.end:
                return
            line.end = _ENDS.get(state, state.lower())
            now = line.ended_at = self._clock()
            if self.tty:
                self._redraw(now)
                if all(self._lines[k].end for k in self._block):
                    # the block stays on screen; the next one starts below
                    self._forget(self._block)
                    self._block, self._drawn = [], 0
            else:
                self._print(line, now)
                del self._lines[key]

    def close(self, owner):
        """The flow of ``owner`` (a listener) ended: its copies still
        shown as running (none, unless it was suspended) end as stopped."""
        with self._lock:
            for key, line in list(self._lines.items()):
                if key[0] is owner and not line.end:
                    self.end(key, 'STOPPED')

    def now(self):
        """The display's clock."""
        return self._clock()

    def write(self, text):
        """Write ``text`` (log records) above the block of lines."""
        with self._lock:
            if self._drawn:
                self._stream.write(_UP % self._drawn + _CLEAR_DOWN)
                self._drawn = 0
            self._stream.write(text)
            if self._block and text.endswith('\n'):
                self._redraw(self._clock())
            else:
                self._stream.flush()

    def flush(self):
        with self._lock:
            self._stream.flush()

    def capture_logging(self, logger=None):
        """On a terminal, route the log handlers writing to this display's
        stream through :meth:`write`, so that records do not land inside
        the block of lines being redrawn."""
        if not self.tty:
            return
        for handler in (logger or py_logging.getLogger()).handlers:
            if getattr(handler, 'stream', None) is self._stream:
                handler.setStream(self)

    def _forget(self, keys):
        for key in list(keys):
            self._lines.pop(key, None)

    def _due(self, line, now):
        if line.printed_at is None:
            return True
        return (now - line.printed_at >= self._interval or
                line.fraction() - line.printed_fraction >= self._step)

    def _print(self, line, now):
        line.printed_at = now
        line.printed_fraction = line.fraction()
        self._stream.write(line.text(now) + '\n')
        self._stream.flush()

    def _width(self):
        try:
            columns = os.get_terminal_size(self._stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        # 0: a terminal whose size was never set (a bare pty)
        columns = columns or shutil.get_terminal_size().columns
        return max(20, columns - 1)

    def _redraw(self, now):
        width = self._width()
        out = [_UP % self._drawn] if self._drawn else []
        for key in self._block:
            # a wrapped line would break the cursor-up count
            out.append(_CLEAR_LINE + self._lines[key].text(now)[:width] +
                       '\n')
        self._drawn = len(self._block)
        self._stream.write(''.join(out))
        self._stream.flush()


class ProgressListener(listener_base.Listener):
    """Passes one engine's task progress events to a display.

    TaskFlow delivers progress only to the notifier of each task, so the
    listener subscribes to those of the engine's tasks, besides the
    engine's task and flow state events. Progress events come from the
    threads running the tasks (side by side with the parallel engine).
    """

    def __init__(self, engine, display):
        super().__init__(engine, task_listen_for=_TASK_STATES,
                         flow_listen_for=_FLOW_END_STATES,
                         retry_listen_for=())
        self._display = display
        self._started = {}
        self._subscribed = []

    def register(self):
        super().register()
        if self._subscribed:
            return
        self._engine.compile()
        for atom in self._engine.compilation.execution_graph:
            if isinstance(atom, tf_task.Task):
                callback = functools.partial(self._on_progress, atom.name)
                atom.notifier.register(tf_task.EVENT_UPDATE_PROGRESS,
                                       callback)
                self._subscribed.append((atom, callback))

    def deregister(self):
        super().deregister()
        while self._subscribed:
            atom, callback = self._subscribed.pop()
            atom.notifier.deregister(tf_task.EVENT_UPDATE_PROGRESS, callback)

    def _on_progress(self, name, event_type, details):
        # The engine's own updates (0.0 when a task starts, 1.0 when it
        # ends) carry no byte counts: only copies have lines.
        if 'done' in details:
            self._display.update((self, name), name, details['done'],
                                 details.get('total'),
                                 start=self._started.get(name))

    def _task_receiver(self, state, details):
        name = details['task_name']
        if state == states.RUNNING:
            self._started[name] = self._display.now()
        else:
            self._display.end((self, name), state)

    def _flow_receiver(self, state, details):
        self._display.close(self)
