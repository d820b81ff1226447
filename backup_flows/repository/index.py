"""Index files: where each chunk is stored.

``index/<id>`` (``id`` = hex SHA-256 of the stored object) is a metadata
envelope (aad b"index") of JSON::

    {"version": 1,
     "packs": {"<pack id>": [["<chunk id hex>", offset, length, raw_length],
                             ...], ...}}

Index files are only added by writers and replaced as a whole by prune and
by :func:`rebuild`; all of them together describe the repository. They are
redundant with the pack trailers, so they can be rebuilt from the packs.

A chunk may be stored in several packs (two backups stored it at the same
time, or a backup re-stored a chunk whose copies were damaged): the index
keeps every copy. ``damaged/<id>`` objects (metadata envelopes, aad
b"damaged") list copies known to be damaged::

    {"version": 1, "copies": [["<pack id>", "<chunk id hex>", "<reason>"],
                              ...]}

Readers try the other copies first, writers do not deduplicate against a
chunk none of whose copies is good, and ``check --repair`` drops damaged
copies that have a good one.
"""

import hashlib
import json
import threading

from oslo_log import log as logging

from backup_flows.repository import crypto
from backup_flows.repository import pack as pack_mod
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

PREFIX = 'index/'
AAD = b'index'
VERSION = 1
DAMAGED_PREFIX = 'damaged/'
DAMAGED_AAD = b'damaged'


class IndexFormatError(ValueError):
    """An index file cannot be read."""


def encode(keys, packs):
    """Return ``(name, data)`` of an index file for ``packs``.

    :param packs: dict pack id -> list of ``(chunk_id, offset, length,
        raw_length)``.
    """
    document = {'version': VERSION, 'packs': {
        pack_id: [[chunk_id.hex(), offset, length, raw]
                  for chunk_id, offset, length, raw in entries]
        for pack_id, entries in packs.items()}}
    data = keys.seal_metadata(json.dumps(document,
                                         separators=(',', ':')).encode(), AAD)
    return PREFIX + hashlib.sha256(data).hexdigest(), data


def _open(keys, data, aad, parse):
    """``parse(document)`` of a metadata envelope of versioned JSON."""
    try:
        document = json.loads(keys.open_metadata(data, aad))
        if document.get('version') != VERSION:
            raise IndexFormatError('%s version %s is not supported'
                                   % (aad.decode(), document.get('version')))
        return parse(document)
    except (crypto.IntegrityError, ValueError, KeyError, TypeError,
            AttributeError) as exc:
        if isinstance(exc, IndexFormatError):
            raise
        raise IndexFormatError(str(exc))


def decode(keys, data):
    """Invert :func:`encode`: dict pack id -> list of entries."""
    return _open(keys, data, AAD, lambda document: {
        pack_id: [(bytes.fromhex(c), o, length, r)
                  for c, o, length, r in entries]
        for pack_id, entries in document['packs'].items()})


def encode_damaged(keys, copies):
    """Return ``(name, data)`` of a ``damaged/`` object for ``copies``, a
    dict ``(pack id, chunk id) -> reason``."""
    document = {'version': VERSION, 'copies': [
        [pack_id, chunk_id.hex(), reason]
        for (pack_id, chunk_id), reason in sorted(copies.items())]}
    data = keys.seal_metadata(json.dumps(document,
                                         separators=(',', ':')).encode(),
                              DAMAGED_AAD)
    return DAMAGED_PREFIX + hashlib.sha256(data).hexdigest(), data


def decode_damaged(keys, data):
    """Invert :func:`encode_damaged`."""
    return _open(keys, data, DAMAGED_AAD, lambda document: {
        (p, bytes.fromhex(c)): reason
        for p, c, reason in document['copies']})


class Index:
    """In-memory map chunk id -> its copies ``(pack_id, offset, length,
    raw_length)``.

    ``chunks`` maps each chunk to its preferred copy (one not known
    damaged, when there is one) and ``others`` to its further copies;
    ``damaged`` maps known damaged copies ``(pack_id, chunk_id)`` to the
    reason; ``found`` holds those found since the index was read, not yet
    in a ``damaged/`` object (see :meth:`save_found`). ``files`` maps each
    loaded index file to its pack ids, ``damaged_files`` lists the
    ``damaged/`` objects read; ``errors`` maps index files that could not
    be read to the reason.
    """

    def __init__(self):
        self.chunks = {}
        self.others = {}
        self.packs = {}
        self.files = {}
        self.errors = {}
        self.damaged = {}
        self.found = {}
        self.damaged_files = []
        # Reads mark copies damaged from the read pool.
        self._lock = threading.Lock()

    def __contains__(self, chunk_id):
        return chunk_id in self.chunks

    def __len__(self):
        return len(self.chunks)

    def lookup(self, chunk_id):
        """Preferred copy of ``chunk_id`` or ``None``."""
        return self.chunks.get(chunk_id)

    def locations(self, chunk_id):
        """Every copy of ``chunk_id``, the preferred one first."""
        first = self.chunks.get(chunk_id)
        if first is None:
            return []
        return [first] + self.others.get(chunk_id, [])

    def has_good_copy(self, chunk_id):
        """Whether ``chunk_id`` has a copy not known to be damaged."""
        first = self.chunks.get(chunk_id)
        return first is not None and (first[0], chunk_id) not in self.damaged

    def add_pack(self, pack_id, entries):
        """Record the entries of one pack (once: a pack named by two index
        files is the same pack)."""
        if pack_id in self.packs:
            return
        self.packs[pack_id] = entries
        for chunk_id, offset, length, raw in entries:
            location = (pack_id, offset, length, raw)
            first = self.chunks.get(chunk_id)
            if first is None:
                self.chunks[chunk_id] = location
                continue
            self.others.setdefault(chunk_id, []).append(location)
            if (first[0], chunk_id) in self.damaged:
                self._prefer_good(chunk_id)

    def mark_damaged(self, pack_id, chunk_id, reason, recorded=False):
        """Record that the copy of ``chunk_id`` in ``pack_id`` is damaged
        (``recorded``: as read from a ``damaged/`` object); return whether
        that was not known yet."""
        with self._lock:
            if (pack_id, chunk_id) in self.damaged:
                return False
            self.damaged[pack_id, chunk_id] = reason
            if not recorded:
                self.found[pack_id, chunk_id] = reason
            self._prefer_good(chunk_id)
            return True

    def save_found(self, backend, keys):
        """Write the damaged copies in ``found`` to a ``damaged/`` object
        (so later backups re-store those chunks); return its name or
        ``None``."""
        with self._lock:
            found, self.found = self.found, {}
        name = save_damaged(backend, keys, found)
        if name:
            self.damaged_files.append(name)
        return name

    def _prefer_good(self, chunk_id):
        """Make a copy not known damaged the preferred one, if any."""
        copies = self.locations(chunk_id)
        for i, location in enumerate(copies):
            if (location[0], chunk_id) not in self.damaged:
                if i:
                    copies.insert(0, copies.pop(i))
                    self.chunks[chunk_id] = copies[0]
                    self.others[chunk_id] = copies[1:]
                return

    def add_damaged(self, copies):
        """Record known damaged ``copies`` ({(pack, chunk): reason})."""
        for (pack_id, chunk_id), reason in copies.items():
            self.mark_damaged(pack_id, chunk_id, reason, recorded=True)

    @classmethod
    def load(cls, backend, keys):
        """Read every index file and ``damaged/`` object."""
        index = cls()
        for name, _ in backend.list(PREFIX):
            try:
                packs = decode(keys, backend.get(name))
            except base.ObjectNotFound:
                # Deleted (by prune) but still listed: listings lag.
                continue
            except IndexFormatError as exc:
                LOG.warning('Index file %s is unreadable: %s', name, exc)
                index.errors[name] = str(exc)
                continue
            index.files[name] = list(packs)
            for pack_id, entries in packs.items():
                index.add_pack(pack_id, entries)
        for name, _ in backend.list(DAMAGED_PREFIX):
            try:
                index.add_damaged(decode_damaged(keys, backend.get(name)))
                index.damaged_files.append(name)
            except base.ObjectNotFound:
                continue
            except IndexFormatError as exc:
                index.damaged_files.append(name)
                # Only knowledge is lost: check --deep finds the damage
                # again, check --repair replaces this object.
                LOG.warning('Damaged-copies record %s is unreadable: %s',
                            name, exc)
        return index


def save_damaged(backend, keys, copies):
    """Write a ``damaged/`` object listing ``copies`` (nothing when
    empty); return its name or ``None``."""
    if not copies:
        return None
    name, data = encode_damaged(keys, copies)
    backend.put(name, data)
    return name


def rebuild(backend, keys):
    """Read the trailer of every pack; return ``(Index, unreadable)``.

    ``unreadable`` maps pack names whose trailer is damaged to the reason.
    """
    index = Index()
    unreadable = {}
    for name, size in backend.list(pack_mod.PREFIX):
        try:
            entries = pack_mod.load_trailer(backend, name, size, keys)
        except pack_mod.PackFormatError as exc:
            unreadable[name] = str(exc)
            continue
        index.add_pack(pack_mod.pack_id_from_name(name), entries)
    return index, unreadable
