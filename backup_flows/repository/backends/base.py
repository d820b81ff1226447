"""Abstract storage backend of a backup repository.

A backend stores named, immutable objects (``config``, ``keys/key``,
``packs/ab/<id>``, ``index/<id>``, ``manifests/<id>``, ``locks/<id>``). Names
use ``/`` as separator. Every ``put`` is atomic: a reader sees the whole
object or no object, never a prefix of it. Backends are stevedore plugins in
the ``backup_flows.storage`` namespace, loaded by
:func:`backup_flows.repository.backends.load_backend`.
"""

import abc


class ObjectNotFound(Exception):
    """The named object does not exist in the backend."""


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

    def purge_temporaries(self):
        """Remove leftovers of interrupted writes; return how many.

        Only called while the repository is locked exclusively.
        """
        return 0

    def close(self):  # noqa: B027 - optional hook, nothing to release
        """Release connections; the backend is not used afterwards."""
