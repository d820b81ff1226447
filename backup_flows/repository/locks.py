"""Repository locks: shared for writers and readers, exclusive for prune.

A lock is an object under ``locks/`` holding JSON::

    {"id": "<32 hex>", "kind": "shared"|"exclusive", "host": "...",
     "pid": 123, "boot_id": "...", "pid_ns": "pid:[4026531836]",
     "pid_start": 8123456, "created_at": 1764061282.5,
     "refreshed_at": 1764061282.5, "ttl": 600, "owner": "job <id>"}

Listings of an object store lag (Swift's are eventually consistent), so
taking a lock rests on what a direct read or a conditional create sees:

* The exclusive lock has one fixed name, ``locks/exclusive``, and is taken
  by a conditional create (``If-None-Match: *``, a hard link): of two
  processes at most one wins, whatever the listings say. The winner then
  lists the shared locks and backs off if one is live.
* A shared lock is ``locks/shared-<id>``. Its taker then reads
  ``locks/exclusive`` directly and backs off if it is live. A shared lock
  and a prune started at the same instant may not see each other in a
  listing; ``prune`` is safe anyway (it never deletes what is younger than
  its grace period or what a writer may still reference, see prune.py) and
  writers re-read ``locks/exclusive`` before they commit.

A holder rewrites its lock every ``ttl / 4`` seconds, after reading it back
to check it is still its own. A lock is stale only when its document was not
refreshed for ``ttl`` seconds (the holder stopped: killed, host down,
suspended), or when its holder provably died: it ran on this host, in this
boot and pid namespace (containers share host names, not pids), and its pid
is gone or names a younger process. A holder that could not refresh for ``ttl``
or found its lock gone or replaced knows it lost it: :meth:`Lock.check`
raises :class:`LockLost`, and nothing is committed on a lost lock.

A stale exclusive lock is broken by whoever first creates
``locks/break-<its id>`` (a conditional create again), so two processes
that both found it stale cannot both delete it, the second deleting the
first one's new lock; a breaker that died half way is broken in turn.
"""

import json
import os
import random
import socket
import threading
import time
import uuid

from oslo_log import log as logging

from backup_flows import processes
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

PREFIX = 'locks/'
EXCLUSIVE_OBJECT = PREFIX + 'exclusive'
SHARED_PREFIX = PREFIX + 'shared-'
BREAK_PREFIX = PREFIX + 'break-'
SHARED = 'shared'
EXCLUSIVE = 'exclusive'


class LockConflict(Exception):
    """A conflicting lock is held; ``holder`` describes it."""

    def __init__(self, holder):
        super().__init__('%s lock held by pid %s on %s%s since %s' % (
            holder.get('kind'), holder.get('pid'), holder.get('host'),
            ' (%s)' % holder['owner'] if holder.get('owner') else '',
            time.strftime('%Y-%m-%dT%H:%M:%SZ',
                          time.gmtime(holder.get('created_at', 0)))))
        self.holder = holder


class LockLost(Exception):
    """A held lock was judged stale or removed by another process."""


def process_identity(pid):
    """The fields of a lock document naming process ``pid`` of this
    machine."""
    boot_id, pid_ns = processes.namespace()
    return {'host': socket.gethostname(), 'pid': pid, 'boot_id': boot_id,
            'pid_ns': pid_ns, 'pid_start': processes.start_time(pid)}


def holder_dead(lock):
    """Whether the holder of ``lock`` provably no longer runs: same host,
    boot and pid namespace as this process, and its pid is gone or now
    names a process started later."""
    boot_id, pid_ns = processes.namespace()
    if (boot_id is None or pid_ns is None
            or lock.get('host') != socket.gethostname()
            or lock.get('boot_id') != boot_id
            or lock.get('pid_ns') != pid_ns
            or lock.get('pid_start') is None):
        return False
    return processes.start_time(lock.get('pid')) != lock['pid_start']


def is_stale(lock, now=None):
    """Whether ``lock`` (a decoded lock document) was not refreshed for
    its ttl, or its holder provably died."""
    now = time.time() if now is None else now
    return (now - lock.get('refreshed_at', 0) > lock.get('ttl', 0)
            or holder_dead(lock))


def _decode(data):
    try:
        document = json.loads(data)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def read_lock(backend, name):
    """The document of lock ``name`` (a direct read) or ``None``."""
    try:
        return _decode(backend.get(name))
    except base.ObjectNotFound:
        return None


def read_locks(backend):
    """Yield ``(name, document)`` of every listed, readable lock (break
    markers excluded)."""
    for name, _ in backend.list(PREFIX):
        if name.startswith(BREAK_PREFIX):
            continue
        document = read_lock(backend, name)
        if document is not None:
            yield name, document


def exclusive_holder(backend):
    """The live exclusive lock's document (read directly) or ``None``."""
    document = read_lock(backend, EXCLUSIVE_OBJECT)
    if document is None or is_stale(document):
        return None
    return document


class Lock:
    """A held lock; use :func:`acquire`. Release with :meth:`release`."""

    def __init__(self, backend, kind, ttl, owner=None, name=None):
        self.backend = backend
        self.kind = kind
        self.ttl = ttl
        lock_id = uuid.uuid4().hex
        if kind == EXCLUSIVE:
            self.name = EXCLUSIVE_OBJECT
        else:
            self.name = name or SHARED_PREFIX + lock_id
        now = time.time()
        self.document = dict(process_identity(os.getpid()), id=lock_id,
                             kind=kind, created_at=now, refreshed_at=now,
                             ttl=ttl)
        if owner:
            self.document['owner'] = owner
        self._stop = threading.Event()
        self._thread = None
        self._held = False
        self._lost = None
        # monotonic time of the last write known to have landed
        self._confirmed = time.monotonic()

    def _encode(self):
        return json.dumps(self.document).encode()

    # -- taking ------------------------------------------------------------

    def _create(self):
        if self.kind != EXCLUSIVE:
            # A shared lock of a fixed name (a flow's) is ours to rewrite.
            self.backend.put(self.name, self._encode())
            return
        try:
            self.backend.create(self.name, self._encode())
        except base.ObjectExists:
            holder = read_lock(self.backend, self.name)
            if holder is None or not is_stale(holder):
                raise LockConflict(holder or {'kind': EXCLUSIVE})
            self._break(holder)
            try:
                self.backend.create(self.name, self._encode())
            except base.ObjectExists:
                raise LockConflict(read_lock(self.backend, self.name)
                                   or {'kind': EXCLUSIVE})

    def _break(self, holder):
        """Delete the stale exclusive lock ``holder`` unless another
        process broke it first.

        The right to delete it is won by creating ``locks/break-<its
        id>``; a breaker that died before deleting it leaves that marker
        (its own lock document, never refreshed), whose claim is broken the
        same way, by creating ``locks/break-<the breaker's id>``.
        """
        claim = holder.get('id')
        while True:
            try:
                self.backend.create(BREAK_PREFIX + str(claim),
                                    self._encode())
                break
            except base.ObjectExists:
                breaker = read_lock(self.backend, BREAK_PREFIX + str(claim))
                if breaker is None or not is_stale(breaker):
                    raise LockConflict(holder)
                claim = breaker.get('id')
        current = read_lock(self.backend, EXCLUSIVE_OBJECT)
        if current is None or current.get('id') != holder.get('id'):
            raise LockConflict(current or holder)
        LOG.warning('Breaking the stale exclusive lock of pid %s on %s (not '
                    'refreshed since %s)', holder.get('pid'),
                    holder.get('host'), time.strftime(
                        '%Y-%m-%dT%H:%M:%SZ',
                        time.gmtime(holder.get('refreshed_at', 0))))
        self.backend.delete(EXCLUSIVE_OBJECT)

    def _conflict(self):
        """The live conflicting lock, if any."""
        if self.kind == EXCLUSIVE:
            for name, other in read_locks(self.backend):
                if name == self.name or is_stale(other):
                    continue
                return other
            return None
        return exclusive_holder(self.backend)

    def _try(self):
        if self.kind == EXCLUSIVE:
            # Do not even create it while a shared lock is listed: writers
            # about to commit wait while it exists.
            holder = self._conflict()
            if holder is not None:
                raise LockConflict(holder)
        self._create()
        self._confirmed = time.monotonic()
        holder = self._conflict()
        if holder is not None:
            self.backend.delete(self.name)
            raise LockConflict(holder)
        self._held = True

    # -- holding -------------------------------------------------------------

    def _refresh(self):
        """Read the lock back, then rewrite it with a new time."""
        current = read_lock(self.backend, self.name)
        if current is None or current.get('id') != self.document['id']:
            self._lost = ('it was removed' if current is None else
                          'pid %s on %s replaced it' % (current.get('pid'),
                                                       current.get('host')))
            return
        if time.monotonic() - self._confirmed > self.ttl:
            # Others may have judged it stale meanwhile.
            self._lost = 'it was not refreshed for %d s' % self.ttl
            return
        self.document['refreshed_at'] = time.time()
        started = time.monotonic()
        self.backend.put(self.name, self._encode())
        self._confirmed = started

    def _refresh_loop(self):
        while not self._stop.wait(self.ttl / 4.0) and self._lost is None:
            try:
                self._refresh()
            except Exception:
                LOG.exception('Could not refresh repository lock %s',
                              self.name)
        if self._lost:
            LOG.error('Repository lock %s lost: %s', self.name, self._lost)

    def start_refreshing(self):
        """Refresh the lock in a daemon thread until released."""
        self._thread = threading.Thread(target=self._refresh_loop,
                                        name='repository-lock', daemon=True)
        self._thread.start()

    def check(self):
        """Confirm the lock is still held (read back, refreshed within its
        ttl) before a decision that needs it.

        :raises LockLost: it was lost; what it protected must be checked
            again under a new lock.
        """
        if self._lost is None:
            try:
                self._refresh()
            except Exception as exc:
                if time.monotonic() - self._confirmed > self.ttl / 2.0:
                    self._lost = 'it could not be refreshed: %s' % exc
        if self._lost is not None:
            raise LockLost('%s lock %s lost: %s' % (self.kind, self.name,
                                                    self._lost))

    def release(self):
        """Stop refreshing and delete the lock object (if still ours)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not self._held:
            return
        self._held = False
        if self._lost is None:
            self.backend.delete(self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def acquire(backend, kind, ttl, wait=0, owner=None, name=None):
    """Take a ``kind`` lock, waiting up to ``wait`` seconds.

    :param owner: what holds it (shown to whoever it blocks).
    :param name: a fixed object name for a shared lock (a flow's lock,
        taken again under the same name when the flow resumes).
    :raises LockConflict: a conflicting lock is still held.
    """
    lock = Lock(backend, kind, ttl, owner=owner, name=name)
    deadline = time.monotonic() + wait
    while True:
        try:
            lock._try()
            break
        except LockConflict as exc:
            if time.monotonic() >= deadline:
                raise
            LOG.info('Repository is locked (%s); waiting up to %d s', exc,
                     max(deadline - time.monotonic(), 0))
            time.sleep(min(0.2 + random.random() * 0.8,
                           max(deadline - time.monotonic(), 0.05)))
    lock.start_refreshing()
    return lock


def wait_for_exclusive(backend, wait):
    """Wait up to ``wait`` seconds while a live exclusive lock is held
    (read directly); return its document if it still is, else ``None``."""
    deadline = time.monotonic() + wait
    holder = exclusive_holder(backend)
    while holder is not None and time.monotonic() < deadline:
        time.sleep(min(0.2 + random.random() * 0.8,
                       max(deadline - time.monotonic(), 0.05)))
        holder = exclusive_holder(backend)
    return holder


def purge(backend, older_than):
    """Remove stale shared locks and break markers written before
    ``older_than`` (called under the exclusive lock); return how many."""
    count = 0
    for name, _, modified in backend.list_modified(PREFIX):
        if name == EXCLUSIVE_OBJECT:
            continue
        if name.startswith(BREAK_PREFIX):
            if modified is not None and modified < older_than:
                backend.delete(name)
                count += 1
            continue
        document = read_lock(backend, name)
        if document is not None and is_stale(document):
            LOG.info('Removing stale %s lock %s of pid %s on %s',
                     document.get('kind'), name, document.get('pid'),
                     document.get('host'))
            backend.delete(name)
            count += 1
    return count
