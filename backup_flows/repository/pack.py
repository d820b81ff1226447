"""Pack objects: many chunk blobs in one object of several MiB.

Layout of ``packs/<id[:2]>/<id>`` (``id`` = hex SHA-256 of the whole pack)::

    blob 0 || ... || blob n-1 || trailer || trailer_size (uint32 LE)
    || b"BFPACK01"

Each blob is a chunk envelope (see crypto.py). The trailer is a metadata
envelope (aad b"pack") of ``count`` fixed-size entries, one per blob::

    type (uint8, 0 = chunk) || chunk id (32) || offset (uint32 LE)
    || stored length (uint32 LE) || raw length (uint32 LE)

so the index can be rebuilt from the packs alone.
"""

import hashlib
import struct

from backup_flows.repository import compression
from backup_flows.repository import crypto

MAGIC = b'BFPACK01'
FOOTER = struct.Struct('<I8s')
ENTRY = struct.Struct('<B32sIII')
BLOB_CHUNK = 0
TRAILER_AAD = b'pack'
PREFIX = 'packs/'


class PackFormatError(ValueError):
    """A pack cannot be parsed."""


def pack_name(pack_id):
    """Object name of pack ``pack_id`` (hex)."""
    return 'packs/%s/%s' % (pack_id[:2], pack_id)


def pack_id_from_name(name):
    """Invert :func:`pack_name`."""
    return name.rsplit('/', 1)[-1]


class PackBuilder:
    """Accumulates blobs of one pack in memory."""

    def __init__(self):
        self._buffer = bytearray()
        self.entries = []

    def __len__(self):
        return len(self._buffer)

    def __bool__(self):
        return bool(self.entries)

    def add(self, chunk_id, stored, raw_length):
        """Append a blob; return its offset."""
        offset = len(self._buffer)
        self._buffer += stored
        self.entries.append((chunk_id, offset, len(stored), raw_length))
        return offset

    def finish(self, keys):
        """Return ``(data, entries)`` of the finished pack; ``data`` is a
        bytearray (not copied) and the builder cannot be used again. Its
        name comes from :func:`pack_id`."""
        trailer = b''.join(ENTRY.pack(BLOB_CHUNK, *entry)
                           for entry in self.entries)
        sealed = keys.seal_metadata(trailer, TRAILER_AAD)
        data, self._buffer = self._buffer, None
        data += sealed
        data += FOOTER.pack(len(sealed), MAGIC)
        return data, self.entries


def pack_id(data):
    """The id of a pack: the hex SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def read_trailer(keys, tail, pack_size):
    """Parse the entries of a pack from its last bytes.

    :param tail: the pack's last bytes (at least the footer; the whole
        trailer when it fits, else :class:`PackFormatError` tells how many
        bytes are needed through ``needed``).
    :returns: list of ``(chunk_id, offset, length, raw_length)``.
    """
    if len(tail) < FOOTER.size:
        raise PackFormatError('pack is shorter than its footer')
    size, magic = FOOTER.unpack(tail[-FOOTER.size:])
    if magic != MAGIC:
        raise PackFormatError('pack footer magic is missing')
    if size + FOOTER.size > pack_size:
        raise PackFormatError('trailer size %d exceeds the pack' % size)
    if size + FOOTER.size > len(tail):
        error = PackFormatError('trailer not in the bytes read')
        error.needed = size + FOOTER.size
        raise error
    sealed = tail[-FOOTER.size - size:-FOOTER.size]
    try:
        trailer = keys.open_metadata(sealed, TRAILER_AAD)
    except crypto.IntegrityError as exc:
        raise PackFormatError('pack trailer: %s' % exc)
    if len(trailer) % ENTRY.size:
        raise PackFormatError('pack trailer has a partial entry')
    data_end = pack_size - FOOTER.size - size
    entries = []
    for kind, chunk_id, offset, length, raw in ENTRY.iter_unpack(trailer):
        if kind != BLOB_CHUNK or offset + length > data_end:
            raise PackFormatError('pack trailer entry out of range')
        entries.append((chunk_id, offset, length, raw))
    return entries


def load_trailer(backend, name, size, keys):
    """Read and parse the trailer of pack object ``name`` of ``size``."""
    guess = min(size, 64 * 1024)
    tail = backend.get_range(name, size - guess, guess)
    try:
        return read_trailer(keys, tail, size)
    except PackFormatError as exc:
        needed = getattr(exc, 'needed', None)
        if needed is None:
            raise
        return read_trailer(keys, backend.get_range(name, size - needed,
                                                    needed), size)


def encode_blob(keys, chunk_id, data, level):
    """Return the stored envelope of chunk ``data``."""
    codec, payload = compression.compress(data, level)
    return keys.seal_blob(bytes([codec]) + payload, chunk_id)


def decode_blob(keys, chunk_id, stored, raw_length, rehash=True):
    """Return the verified plaintext of a stored chunk (bytes-like: a
    memoryview when it was stored uncompressed, to avoid a copy).

    :param rehash: recompute the chunk id of the plaintext. Restores of an
        encrypted repository skip it: AES-GCM with the chunk id as
        associated data already proves that the blob is the one sealed for
        that id (``check --deep`` still recomputes every id, which also
        catches a writer that sealed the wrong bytes). In an unencrypted
        repository the id is the only check and is always recomputed.
    :raises crypto.IntegrityError: the blob is damaged or does not hash to
        ``chunk_id``; wrong bytes are never returned.
    """
    plaintext = memoryview(keys.open_blob(stored, chunk_id))
    if not plaintext:
        raise crypto.IntegrityError('empty blob')
    try:
        data = compression.decompress(plaintext[0], plaintext[1:],
                                      raw_length)
    except ValueError as exc:
        raise crypto.IntegrityError(str(exc))
    if len(data) != raw_length:
        raise crypto.IntegrityError('content has %d bytes, not %d'
                                    % (len(data), raw_length))
    if (rehash or not keys.encrypted) and keys.chunk_id(data) != chunk_id:
        raise crypto.IntegrityError('content does not match its id')
    return data
