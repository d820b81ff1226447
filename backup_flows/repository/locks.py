"""Repository locks: shared for writers, exclusive for prune.

A lock is an object ``locks/<random id>`` holding JSON::

    {"kind": "shared"|"exclusive", "host": "...", "pid": 123,
     "created_at": 1764061282.5, "refreshed_at": 1764061282.5, "ttl": 600}

To lock, a process writes its lock object, then lists the others: if one
conflicts (an exclusive lock conflicts with every lock), it deletes its own
and waits or fails. Two processes racing both see each other and both back
off, so two conflicting locks are never held together. A holder rewrites
its lock every ``ttl / 3`` seconds; a lock not refreshed for ``ttl`` seconds,
or held by a dead process on this host, is stale: it is ignored and removed.
"""

import json
import os
import random
import socket
import threading
import time
import uuid

from oslo_log import log as logging

from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

PREFIX = 'locks/'
SHARED = 'shared'
EXCLUSIVE = 'exclusive'


class LockConflict(Exception):
    """A conflicting lock is held; ``holder`` describes it."""

    def __init__(self, holder):
        super().__init__('%s lock held by pid %s on %s since %s' % (
            holder.get('kind'), holder.get('pid'), holder.get('host'),
            time.strftime('%Y-%m-%dT%H:%M:%SZ',
                          time.gmtime(holder.get('created_at', 0)))))
        self.holder = holder


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(lock, now=None):
    """Whether ``lock`` (a decoded lock document) can be ignored."""
    now = time.time() if now is None else now
    if now - lock.get('refreshed_at', 0) > lock.get('ttl', 0):
        return True
    return (lock.get('host') == socket.gethostname() and
            not _pid_alive(lock.get('pid', -1)))


def read_locks(backend):
    """Yield ``(name, document)`` of every readable lock."""
    for name, _ in backend.list(PREFIX):
        try:
            yield name, json.loads(backend.get(name))
        except (base.ObjectNotFound, ValueError):
            continue


class Lock:
    """A held lock; use :func:`acquire`. Release with :meth:`release`."""

    def __init__(self, backend, kind, ttl):
        self.backend = backend
        self.kind = kind
        self.ttl = ttl
        self.name = PREFIX + uuid.uuid4().hex
        now = time.time()
        self.document = {'kind': kind, 'host': socket.gethostname(),
                         'pid': os.getpid(), 'created_at': now,
                         'refreshed_at': now, 'ttl': ttl}
        self._stop = threading.Event()
        self._thread = None

    def _write(self):
        self.document['refreshed_at'] = time.time()
        self.backend.put(self.name, json.dumps(self.document).encode())

    def _conflict(self):
        for name, other in read_locks(self.backend):
            if name == self.name:
                continue
            if is_stale(other):
                LOG.info('Removing stale %s lock %s of pid %s on %s',
                         other.get('kind'), name, other.get('pid'),
                         other.get('host'))
                self.backend.delete(name)
                continue
            if EXCLUSIVE in (self.kind, other.get('kind')):
                return other
        return None

    def _try(self):
        self._write()
        holder = self._conflict()
        if holder is not None:
            self.backend.delete(self.name)
            raise LockConflict(holder)

    def _refresh_loop(self):
        while not self._stop.wait(self.ttl / 3.0):
            try:
                self._write()
            except Exception:
                LOG.exception('Could not refresh repository lock %s',
                              self.name)

    def start_refreshing(self):
        """Refresh the lock in a daemon thread until released."""
        self._thread = threading.Thread(target=self._refresh_loop,
                                        name='repository-lock', daemon=True)
        self._thread.start()

    def release(self):
        """Stop refreshing and delete the lock object."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.backend.delete(self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def acquire(backend, kind, ttl, wait=0):
    """Take a ``kind`` lock, waiting up to ``wait`` seconds.

    :raises LockConflict: a conflicting lock is still held.
    """
    lock = Lock(backend, kind, ttl)
    deadline = time.monotonic() + wait
    while True:
        try:
            lock._try()
            break
        except LockConflict:
            if time.monotonic() >= deadline:
                raise
            time.sleep(min(0.2 + random.random() * 0.8,
                           max(deadline - time.monotonic(), 0.05)))
    lock.start_refreshing()
    return lock
