"""Reading disks back: verified, in order, with zero runs kept apart.

:func:`iter_extents` yields ``(offset, length, data)`` for a disk, ``data``
being ``None`` for a zero run so a writer can leave a hole. Chunks are
fetched, decrypted, decompressed and re-hashed on the repository's thread
pool, a few ahead of the consumer. A chunk that is missing or does not match
its id raises :class:`ChunkError` before any of its bytes are yielded:
wrong bytes are never returned.
"""

import collections
import os

from backup_flows.repository import crypto
from backup_flows.repository import pack as pack_mod
from backup_flows.repository.backends import base


class ChunkError(Exception):
    """A chunk cannot be read back intact."""

    def __init__(self, chunk_id, reason):
        super().__init__('chunk %s: %s' % (chunk_id.hex(), reason))
        self.chunk_id = chunk_id
        self.reason = reason


def load_chunk(repo, chunk_id):
    """Return the verified plaintext of ``chunk_id``."""
    location = repo.index.lookup(chunk_id)
    if location is None:
        raise ChunkError(chunk_id, 'not in the index')
    pack_id, offset, length, raw_length = location
    try:
        stored = repo.backend.get_range(pack_mod.pack_name(pack_id), offset,
                                        length)
    except base.ObjectNotFound:
        raise ChunkError(chunk_id, 'pack %s is missing' % pack_id)
    if len(stored) != length:
        raise ChunkError(chunk_id, 'pack %s is truncated' % pack_id)
    try:
        return pack_mod.decode_blob(repo.keys, chunk_id, stored, raw_length)
    except crypto.IntegrityError as exc:
        raise ChunkError(chunk_id, 'damaged in pack %s (%s)' % (pack_id, exc))


def iter_extents(repo, disk, lookahead=None):
    """Yield ``(offset, length, data_or_None)`` covering ``disk``."""
    lookahead = lookahead or 2 * repo.settings.workers + 2
    pending = collections.deque()
    offset = 0
    for hex_id, length in disk['chunks']:
        if hex_id is None:
            pending.append((offset, length, None))
        else:
            pending.append((offset, length, repo.pool.submit(
                load_chunk, repo, bytes.fromhex(hex_id))))
        offset += length
        while len(pending) > lookahead:
            yield _resolve(pending.popleft())
    while pending:
        yield _resolve(pending.popleft())


def _resolve(entry):
    offset, length, future = entry
    if future is None:
        return offset, length, None
    return offset, length, future.result()


def write_to_file(repo, disk, path, sparse=True):
    """Write ``disk`` to ``path``; return bytes written (not holes).

    With ``sparse`` a regular file is created or truncated and zero runs are
    left as holes; without it (or for a block device) zeros are written.
    """
    is_regular = not os.path.exists(path) or os.path.isfile(path)
    flags = os.O_WRONLY | os.O_CREAT
    if is_regular:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    written = 0
    try:
        skip_zeros = sparse and is_regular
        zeros = bytes(1 << 20)
        for offset, length, data in iter_extents(repo, disk):
            if data is None:
                if skip_zeros:
                    continue
                end = offset + length
                while offset < end:
                    n = min(len(zeros), end - offset)
                    written += os.pwrite(fd, memoryview(zeros)[:n], offset)
                    offset += n
                continue
            view = memoryview(data)
            while view:
                n = os.pwrite(fd, view, offset)
                view = view[n:]
                offset += n
                written += n
        if is_regular:
            os.ftruncate(fd, disk['size'])
        os.fsync(fd)
    finally:
        os.close(fd)
    return written
