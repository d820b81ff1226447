"""Abstract storage backend of a backup repository.

A backend stores named, immutable objects (``config``, ``keys/key``,
``packs/ab/<id>``, ``index/<id>``, ``manifests/<id>``, ``locks/<id>``). Names
use ``/`` as separator. Every ``put`` is atomic: a reader sees the whole
object or no object, never a prefix of it.

What callers may rely on (Swift's guarantees): a ``get`` of an object
created by :meth:`Backend.create` or ``put`` finds it, a ``get`` after a
``delete`` does not, and :meth:`Backend.create` is atomic. Listings may lag:
a new object may be missing from :meth:`Backend.list` for a while and a
deleted one still listed, so no safety decision rests on a listing alone.

Backends are stevedore plugins in the ``backup_flows.storage`` namespace,
loaded by :func:`backup_flows.repository.backends.load_backend`.
"""

import abc


class ObjectNotFound(Exception):
    """The named object does not exist in the backend."""


class ObjectExists(Exception):
    """:meth:`Backend.create` found the named object already there."""


class TransientBackendError(Exception):
    """A request failed in a way that may succeed when retried."""


class Backend(abc.ABC):
    """Object storage used by a repository.

    :param location: the URL part after ``scheme://`` without the query
        (a directory for ``file``, ``container/prefix`` for ``swift``).
    :param options: the URL query as a dict of strings.
    """

    def __init__(self, location, options):
        self.location = location
        self.options = options

    @abc.abstractmethod
    def put(self, name, data):
        """Store ``data`` (bytes-like) under ``name`` atomically,
        replacing it."""

    @abc.abstractmethod
    def create(self, name, data):
        """Store ``data`` under ``name`` only if no object has that name,
        atomically (``If-None-Match: *``, a hard link): of two processes
        creating one name, exactly one succeeds.

        :raises ObjectExists: ``name`` exists.
        """

    @abc.abstractmethod
    def get(self, name):
        """Return the bytes of ``name``; raise :class:`ObjectNotFound`."""

    @abc.abstractmethod
    def get_range(self, name, offset, length):
        """Return ``length`` bytes of ``name`` from ``offset``.

        Fewer bytes are returned when the object is shorter.
        """

    @abc.abstractmethod
    def list(self, prefix):
        """Yield ``(name, size)`` of every object whose name starts with
        ``prefix``."""

    def list_modified(self, prefix):
        """Yield ``(name, size, modified)`` like :meth:`list`, with the time
        (seconds since the epoch, storage clock) the object was written, or
        ``None`` when unknown (callers must then treat it as new)."""
        for name, size in self.list(prefix):
            yield name, size, None

    @abc.abstractmethod
    def delete(self, name):
        """Delete ``name``; deleting a missing object is not an error."""

    def exists(self, name):
        """Return whether ``name`` exists."""
        try:
            self.get_range(name, 0, 1)
        except ObjectNotFound:
            return False
        return True

    def prefetch(self, name, offset, length):  # noqa: B027 - optional
        """Hint that ``length`` bytes of ``name`` from ``offset`` will be
        read soon (a backend may start reading them); never fails."""

    def purge_temporaries(self, older_than=None):
        """Remove leftovers of interrupted writes; return how many.

        Only called while the repository is locked exclusively; with
        ``older_than`` (seconds since the epoch), only those written before
        then (newer ones may belong to a backup still writing).
        """
        return 0

    def close(self):  # noqa: B027 - optional hook, nothing to release
        """Release connections; the backend is not used afterwards."""
