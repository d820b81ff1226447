"""Index files: where each chunk is stored.

``index/<id>`` (``id`` = hex SHA-256 of the stored object) is a metadata
envelope (aad b"index") of JSON::

    {"version": 1,
     "packs": {"<pack id>": [["<chunk id hex>", offset, length, raw_length],
                             ...], ...}}

Index files are only added by writers and replaced as a whole by prune and
by :func:`rebuild`; all of them together describe the repository. They are
redundant with the pack trailers, so they can be rebuilt from the packs.
"""

import hashlib
import json

from oslo_log import log as logging

from backup_flows.repository import crypto
from backup_flows.repository import pack as pack_mod

LOG = logging.getLogger(__name__)

PREFIX = 'index/'
AAD = b'index'
VERSION = 1


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


def decode(keys, data):
    """Invert :func:`encode`: dict pack id -> list of entries."""
    try:
        document = json.loads(keys.open_metadata(data, AAD))
        if document.get('version') != VERSION:
            raise IndexFormatError('index version %s is not supported'
                                   % document.get('version'))
        return {pack_id: [(bytes.fromhex(c), o, length, r)
                          for c, o, length, r in entries]
                for pack_id, entries in document['packs'].items()}
    except (crypto.IntegrityError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, IndexFormatError):
            raise
        raise IndexFormatError(str(exc))


class Index:
    """In-memory map chunk id -> ``(pack_id, offset, length, raw_length)``.

    ``files`` maps each loaded index file to its pack ids; ``errors`` maps
    index files that could not be read to the reason.
    """

    def __init__(self):
        self.chunks = {}
        self.packs = {}
        self.files = {}
        self.errors = {}

    def __contains__(self, chunk_id):
        return chunk_id in self.chunks

    def __len__(self):
        return len(self.chunks)

    def lookup(self, chunk_id):
        """Location of ``chunk_id`` or ``None``."""
        return self.chunks.get(chunk_id)

    def add_pack(self, pack_id, entries):
        """Record the entries of one pack."""
        self.packs[pack_id] = entries
        for chunk_id, offset, length, raw in entries:
            self.chunks[chunk_id] = (pack_id, offset, length, raw)

    @classmethod
    def load(cls, backend, keys):
        """Read every index file of the repository."""
        index = cls()
        for name, _ in backend.list(PREFIX):
            try:
                packs = decode(keys, backend.get(name))
            except IndexFormatError as exc:
                LOG.warning('Index file %s is unreadable: %s', name, exc)
                index.errors[name] = str(exc)
                continue
            index.files[name] = list(packs)
            for pack_id, entries in packs.items():
                index.add_pack(pack_id, entries)
        return index


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
