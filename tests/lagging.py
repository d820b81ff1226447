"""A storage backend wrapper whose listings lag, as Swift's do.

Swift container listings are eventually consistent: an object just written
may be missing from a listing for seconds, one just deleted still listed.
Direct reads are not affected (a GET finds a new object, misses a deleted
one), nor are conditional creates. :class:`LaggingBackend` wraps a real
backend and reproduces exactly that: every object written or deleted
through any wrapper sharing one :class:`Lag` stays invisible (new) or
visible (deleted) in listings for a random time up to ``seconds``, drawn
per object and per listing (two listings may disagree, as two container
replicas do), or exactly ``seconds`` without ``jitter``.
"""

import random
import threading
import time

from backup_flows.repository.backends import base


class Lag:
    """What the wrappers of one repository share: when each object was
    written or deleted, and the lag."""

    def __init__(self, seconds, seed=None, jitter=True):
        self.seconds = seconds
        self.jitter = jitter
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.written = {}
        # name -> (deleted at, size, modified) as last listed
        self.deleted = {}

    def hidden(self, since):
        """Whether a change made at ``since`` is not yet in a listing."""
        with self.lock:
            lag = (self.rng.uniform(0, self.seconds) if self.jitter
                   else self.seconds)
        return time.monotonic() - since < lag


class LaggingBackend(base.Backend):
    """``backend`` with listings that lag by up to ``lag.seconds``."""

    def __init__(self, backend, lag):
        super().__init__(backend.location, backend.options)
        self.backend = backend
        self.lag = lag

    def _written(self, name):
        with self.lag.lock:
            self.lag.written[name] = time.monotonic()
            self.lag.deleted.pop(name, None)

    def put(self, name, data):
        self.backend.put(name, data)
        self._written(name)

    def create(self, name, data):
        self.backend.create(name, data)
        self._written(name)

    def get(self, name):
        return self.backend.get(name)

    def get_range(self, name, offset, length):
        return self.backend.get_range(name, offset, length)

    def exists(self, name):
        return self.backend.exists(name)

    def prefetch(self, name, offset, length):
        self.backend.prefetch(name, offset, length)

    def delete(self, name):
        listed = {n: (s, m) for n, s, m in self.backend.list_modified(name)}
        self.backend.delete(name)
        if name in listed:
            with self.lag.lock:
                self.lag.deleted[name] = (time.monotonic(),) + listed[name]
                self.lag.written.pop(name, None)

    def list(self, prefix):
        for name, size, _ in self.list_modified(prefix):
            yield name, size

    def list_modified(self, prefix):
        entries = {}
        for name, size, modified in self.backend.list_modified(prefix):
            with self.lag.lock:
                since = self.lag.written.get(name)
            if since is None or not self.lag.hidden(since):
                entries[name] = (size, modified)
        with self.lag.lock:
            deleted = [(n, d) for n, d in self.lag.deleted.items()
                       if n.startswith(prefix)]
        for name, (since, size, modified) in deleted:
            if self.lag.hidden(since):
                entries.setdefault(name, (size, modified))
        for name in sorted(entries):
            yield (name,) + entries[name]

    def purge_temporaries(self, older_than=None):
        return self.backend.purge_temporaries(older_than=older_than)

    def close(self):
        self.backend.close()
