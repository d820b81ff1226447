"""Restoring a disk into a file or block device.

Batches of chunks (reader.py) are read, verified and written at their
offsets by the repository's read pool; what is written is hashed in disk
order and handed to writeback behind the writes, and the whole-disk
SHA-256 is checked before the file is synced.
"""

import collections
import concurrent.futures
import hashlib
import os

from backup_flows.repository import reader

# Written data is handed to writeback (and dropped from the page cache)
# in steps of this many bytes.
_WRITE_BEHIND = 32 << 20


def _pwrite_all(fd, data, offset):
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _write_batch(repo, batch, fd):
    """Read, verify and write one batch at its offsets (on the pool: the
    batches of a disk are independent, so they are written in parallel).
    Return the chunks written; raise :class:`reader.ChunkError` at a bad
    chunk."""
    datas, error = reader.load_batch(repo, batch)
    # The chunks of a batch are adjacent on the disk: one system call.
    offset = batch.items[0][0]
    total = sum(len(data) for data in datas)
    done = os.pwritev(fd, datas, offset) if datas else 0
    if done < total:
        _pwrite_all(fd, b''.join(datas)[done:], offset + done)
    if error is not None:
        raise error
    return datas


def _finished(result):
    future = concurrent.futures.Future()
    future.set_result(result)
    return future


def _hash_written(digest, written, zeros):
    """Hash what a batch wrote (its chunks) or the length of a zero run;
    return the bytes a batch wrote (0 for a zero run)."""
    if isinstance(written, int):
        while written:
            piece = memoryview(zeros)[:min(len(zeros), written)]
            digest.update(piece)
            written -= len(piece)
        return 0
    for data in written:
        digest.update(data)
    return sum(len(data) for data in written)


def _write_zeros(fd, offset, length, zeros):
    end = offset + length
    while offset < end:
        n = min(len(zeros), end - offset)
        _pwrite_all(fd, memoryview(zeros)[:n], offset)
        offset += n


class _Pending:
    """Batches of a disk being written, in disk order: each is hashed once
    it is written, and what is written is handed to writeback behind the
    writes (see :func:`write_to_file`)."""

    def __init__(self, fd, zeros):
        self.fd = fd
        self.zeros = zeros
        self.queue = collections.deque()
        self.written = 0
        self.digest = hashlib.sha256()
        # Write-behind marks: [dropped, flushed) has been handed to
        # writeback, [flushed, end) not yet.
        self.dropped = self.flushed = 0

    def add(self, end, future):
        self.queue.append((end, future))

    def resolve_one(self):
        end, future = self.queue.popleft()
        self.written += _hash_written(self.digest, future.result(),
                                      self.zeros)
        # Every batch before this one is written too: start writing them
        # back (asynchronously) so the final fsync is short, and drop the
        # previous range, written back by now, from the page cache (dirty
        # pages cannot be dropped, clean ones are recycled at once).
        if end - self.flushed >= _WRITE_BEHIND:
            os.posix_fadvise(self.fd, self.dropped, end - self.dropped,
                             os.POSIX_FADV_DONTNEED)
            self.dropped, self.flushed = self.flushed, end

    def resolve(self, limit=0):
        """Hash batches in order until at most ``limit`` are pending."""
        while len(self.queue) > limit:
            self.resolve_one()

    def cancel(self):
        """Cancel the batches not started; wait for the running ones."""
        for _, future in self.queue:
            future.cancel()
        for _, future in self.queue:
            if not future.cancelled():
                concurrent.futures.wait([future])


def write_to_file(repo, disk, path, sparse=True):
    """Write ``disk`` to ``path``; return bytes written (not holes).

    With ``sparse`` a regular file is created or truncated and zero runs are
    left as holes; without it (or for a block device) zeros are written.
    Batches are read, verified and written by the repository's read pool,
    at most ``read_workers + 2`` at a time; what is written is hashed in
    disk order, and the whole-disk SHA-256 is checked before the file is
    synced.

    :raises reader.ChunkError: a chunk is missing or damaged; the file is then
        incomplete.
    :raises reader.ChecksumError: the bytes written do not have the disk's
        SHA-256.
    """
    is_regular = not os.path.exists(path) or os.path.isfile(path)
    flags = os.O_WRONLY | os.O_CREAT
    if is_regular:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    skip_zeros = sparse and is_regular
    zeros = bytes(1 << 20)
    pending = _Pending(fd, zeros)
    limit = repo.settings.read_workers + 2
    try:
        for entry in reader.hinted(repo, reader.plan(repo, disk)):
            if isinstance(entry, tuple):
                if not skip_zeros:
                    _write_zeros(fd, entry[0], entry[1], zeros)
                    pending.written += entry[1]
                # hashed in order with the batches around it
                pending.add(entry[0] + entry[1], _finished(entry[1]))
                continue
            offset, length = entry.items[-1][:2]
            pending.add(offset + length, repo.read_pool.submit(
                _write_batch, repo, entry, fd))
            pending.resolve(limit)
        pending.resolve()
        if pending.digest.hexdigest() != disk['sha256']:
            raise reader.ChecksumError(
                'the bytes written do not have the disk\'s SHA-256')
        if is_regular:
            os.ftruncate(fd, disk['size'])
        os.fsync(fd)
    finally:
        pending.cancel()
        os.close(fd)
    return pending.written
