"""Reading disks back: verified, in order, with zero runs kept apart.

:func:`iter_extents` yields ``(offset, length, data)`` for a disk, ``data``
being ``None`` for a zero run so a writer can leave a hole. Chunks are
fetched, decrypted, decompressed and verified on the repository's read
pool, a few ahead of the consumer. A chunk that is missing or does not match
its id raises :class:`ChunkError` before any of its bytes are yielded:
wrong bytes are never returned.
"""

import collections
import concurrent.futures
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
        return pack_mod.decode_blob(repo.keys, chunk_id, stored, raw_length,
                                    rehash=False)
    except crypto.IntegrityError as exc:
        raise ChunkError(chunk_id, 'damaged in pack %s (%s)' % (pack_id, exc))


# Consecutive chunks stored close together in one pack are fetched with one
# range read of at most _MAX_BATCH bytes (skipping gaps up to _MAX_GAP):
# large sequential reads from files and far fewer Swift requests.
_MAX_BATCH = 4 << 20
_MAX_GAP = 256 << 10
_WRITE_BEHIND = 32 << 20
# Batches announced to the backend ahead of reading them.
_PREFETCH = 8


class _Batch:
    """Chunks read with one range read: ``items`` are ``(offset in disk,
    length, chunk_id, location)``; ``location`` is ``None`` when the
    chunk is not in the index."""

    def __init__(self, item):
        self.items = [item]
        location = item[3]
        self.pack_id = location[0] if location else None
        self.start = location[1] if location else 0
        self.end = location[1] + location[2] if location else 0
        self.raw = item[1]

    def take(self, item):
        """Add ``item`` if it is close enough in the same pack."""
        location = item[3]
        if (location is None or self.pack_id != location[0] or
                not self.end <= location[1] <= self.end + _MAX_GAP):
            return False
        end = location[1] + location[2]
        if (end - self.start > _MAX_BATCH or
                self.raw + item[1] > _MAX_BATCH):
            return False
        self.items.append(item)
        self.end = end
        self.raw += item[1]
        return True


def _load_batch(repo, batch):
    """Return ``(datas, error)``: the verified chunks of ``batch`` up to
    the first bad one, and the :class:`ChunkError` of that one."""
    first_id = batch.items[0][2]
    if batch.pack_id is None:
        return [], ChunkError(first_id, 'not in the index')
    try:
        data = repo.backend.get_range(pack_mod.pack_name(batch.pack_id),
                                      batch.start, batch.end - batch.start)
    except base.ObjectNotFound:
        return [], ChunkError(first_id, 'pack %s is missing' % batch.pack_id)
    view = memoryview(data)
    datas = []
    for _, _, chunk_id, (_, offset, length, raw_length) in batch.items:
        stored = view[offset - batch.start:offset - batch.start + length]
        if len(stored) != length:
            return datas, ChunkError(chunk_id, 'pack %s is truncated'
                                     % batch.pack_id)
        try:
            datas.append(pack_mod.decode_blob(repo.keys, chunk_id, stored,
                                              raw_length, rehash=False))
        except crypto.IntegrityError as exc:
            return datas, ChunkError(chunk_id, 'damaged in pack %s (%s)'
                                     % (batch.pack_id, exc))
    return datas, None


def _plan(repo, disk):
    """Yield ``(offset, length)`` zero runs and :class:`_Batch` objects
    covering ``disk`` in order."""
    batch = None
    offset = 0
    for hex_id, length in disk['chunks']:
        if hex_id is None:
            if batch is not None:
                yield batch
                batch = None
            yield offset, length
        else:
            chunk_id = bytes.fromhex(hex_id)
            item = (offset, length, chunk_id, repo.index.lookup(chunk_id))
            if batch is None or not batch.take(item):
                if batch is not None:
                    yield batch
                batch = _Batch(item)
        offset += length
    if batch is not None:
        yield batch


def _hinted(repo, plan):
    """Pass ``plan`` through, telling the backend about each batch
    ``_PREFETCH`` batches before it is read (the file backend starts
    reading it into the page cache)."""
    window = collections.deque()
    for entry in plan:
        if not isinstance(entry, tuple) and entry.pack_id is not None:
            repo.backend.prefetch(pack_mod.pack_name(entry.pack_id),
                                  entry.start, entry.end - entry.start)
            window.append(entry)
            while len(window) > _PREFETCH:
                yield window.popleft()
        else:
            window.append(entry)
    yield from window


def iter_extents(repo, disk, lookahead=None):
    """Yield ``(offset, length, data_or_None)`` covering ``disk``.

    Batches are read and verified on the repository's read pool, at most
    ``lookahead`` of them ahead of the consumer (bounded memory).

    :raises ChunkError: at the first bad chunk, after every good chunk
        before it was yielded.
    """
    lookahead = lookahead or repo.settings.read_workers + 2
    pending = collections.deque()
    in_flight = 0
    for entry in _hinted(repo, _plan(repo, disk)):
        if isinstance(entry, tuple):
            pending.append((entry, None))
            continue
        pending.append((entry, repo.read_pool.submit(_load_batch, repo,
                                                     entry)))
        in_flight += 1
        while in_flight > lookahead:
            in_flight -= yield from _resolve(pending.popleft())
    while pending:
        yield from _resolve(pending.popleft())


def _resolve(entry):
    """Yield the extents of one planned entry; return 1 for a batch."""
    planned, future = entry
    if future is None:
        yield planned[0], planned[1], None
        return 0
    datas, error = future.result()
    for item, data in zip(planned.items, datas, strict=False):
        yield item[0], item[1], data
    if error is not None:
        raise error
    return 1


def _pwrite_all(fd, data, offset):
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _write_batch(repo, batch, fd):
    """Read, verify and write one batch at its offsets (on the pool: the
    batches of a disk are independent, so they are written in parallel).
    Return the bytes written; raise :class:`ChunkError` at a bad chunk."""
    datas, error = _load_batch(repo, batch)
    # The chunks of a batch are adjacent on the disk: one system call.
    offset = batch.items[0][0]
    total = sum(len(data) for data in datas)
    done = os.pwritev(fd, datas, offset) if datas else 0
    if done < total:
        _pwrite_all(fd, b''.join(datas)[done:], offset + done)
    if error is not None:
        raise error
    return total


def _write_zeros(fd, offset, length, zeros):
    end = offset + length
    while offset < end:
        n = min(len(zeros), end - offset)
        _pwrite_all(fd, memoryview(zeros)[:n], offset)
        offset += n


def write_to_file(repo, disk, path, sparse=True):
    """Write ``disk`` to ``path``; return bytes written (not holes).

    With ``sparse`` a regular file is created or truncated and zero runs are
    left as holes; without it (or for a block device) zeros are written.
    Batches are read, verified and written by the repository's read pool,
    at most ``read_workers + 2`` at a time.

    :raises ChunkError: a chunk is missing or damaged; the file is then
        incomplete.
    """
    is_regular = not os.path.exists(path) or os.path.isfile(path)
    flags = os.O_WRONLY | os.O_CREAT
    if is_regular:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    skip_zeros = sparse and is_regular
    zeros = bytes(1 << 20)
    pending = collections.deque()
    written = 0
    # Write-behind marks: [dropped, flushed) has been handed to writeback,
    # [flushed, end) not yet.
    dropped = flushed = 0
    limit = repo.settings.read_workers + 2

    def resolve_one():
        nonlocal written, dropped, flushed
        end, future = pending.popleft()
        written += future.result()
        # Every batch before this one is written too: start writing them
        # back (asynchronously) so the final fsync is short, and drop the
        # previous range, written back by now, from the page cache (dirty
        # pages cannot be dropped, clean ones are recycled at once).
        if end - flushed >= _WRITE_BEHIND:
            os.posix_fadvise(fd, dropped, end - dropped,
                             os.POSIX_FADV_DONTNEED)
            dropped, flushed = flushed, end

    try:
        for entry in _hinted(repo, _plan(repo, disk)):
            if isinstance(entry, tuple):
                if not skip_zeros:
                    _write_zeros(fd, entry[0], entry[1], zeros)
                    written += entry[1]
                continue
            offset, length = entry.items[-1][:2]
            pending.append((offset + length, repo.read_pool.submit(
                _write_batch, repo, entry, fd)))
            while len(pending) > limit:
                resolve_one()
        while pending:
            resolve_one()
        if is_regular:
            os.ftruncate(fd, disk['size'])
        os.fsync(fd)
    finally:
        for _, future in pending:
            future.cancel()
        for _, future in pending:
            if not future.cancelled():
                concurrent.futures.wait([future])
        os.close(fd)
    return written
