"""Reading disks back: verified, in order, with zero runs kept apart.

:func:`iter_extents` yields ``(offset, length, data)`` for a disk, ``data``
being ``None`` for a zero run so a writer can leave a hole. Chunks are
fetched, decrypted, decompressed and verified on the repository's read
pool, a few ahead of the consumer. A copy of a chunk that is missing or
does not match its id is recorded as damaged in the index (see
:meth:`index.Index.mark_damaged`) and the chunk's other copies are tried,
with a warning in the log; when no copy is good, :class:`ChunkError` is
raised before any of the chunk's bytes are yielded: wrong bytes are never
returned.
"""

import collections

from oslo_log import log as logging

from backup_flows.repository import chunk_list
from backup_flows.repository import crypto
from backup_flows.repository import pack as pack_mod
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)


class ChunkError(Exception):
    """A chunk cannot be read back intact: no copy of it is good.

    ``offset`` is the chunk's own offset in the disk being read (``None``
    when it is read on its own).
    """

    def __init__(self, chunk_id, reason, offset=None, kind='chunk'):
        super().__init__('%s %s: %s' % (kind, chunk_id.hex(), reason))
        self.chunk_id = chunk_id
        self.reason = reason
        self.offset = offset


class ChecksumError(Exception):
    """A disk's bytes, read back, do not have its whole-disk SHA-256."""


class _BadCopy(Exception):
    """One copy of a chunk is missing or damaged (the message says how)."""


def _read_copy(repo, chunk_id, location, stored=None):
    """Return the verified plaintext of one copy of ``chunk_id``, read from
    its pack unless ``stored`` (its blob) is given.

    :raises _BadCopy: the copy is missing, truncated or damaged.
    """
    pack_id, offset, length, raw_length = location
    if stored is None:
        try:
            stored = repo.backend.get_range(pack_mod.pack_name(pack_id),
                                            offset, length)
        except base.ObjectNotFound:
            raise _BadCopy('pack %s is missing' % pack_id)
    if len(stored) != length:
        raise _BadCopy('pack %s is truncated' % pack_id)
    try:
        return pack_mod.decode_blob(repo.keys, chunk_id, stored, raw_length,
                                    rehash=False)
    except crypto.IntegrityError as exc:
        raise _BadCopy('damaged in pack %s (%s)' % (pack_id, exc))


def load_chunk(repo, chunk_id, offset=None, failed=None):
    """Return the verified plaintext of ``chunk_id`` from its first good
    copy; every bad copy met is marked damaged in ``repo.index``.

    :param offset: the chunk's offset in its disk, for the error.
    :param failed: ``(location, reason)`` of a copy already found bad.
    :raises ChunkError: no copy is good.
    """
    reasons = []
    tried = set()
    if failed is not None:
        location, reason = failed
        repo.index.mark_damaged(location[0], chunk_id, reason)
        reasons.append(reason)
        tried.add(location[0])
    for location in repo.index.locations(chunk_id):
        if location[0] in tried:
            continue
        try:
            data = _read_copy(repo, chunk_id, location)
        except _BadCopy as exc:
            repo.index.mark_damaged(location[0], chunk_id, str(exc))
            reasons.append(str(exc))
            continue
        if reasons:
            LOG.warning('Chunk %s: %s; read its copy in pack %s instead',
                        chunk_id.hex(), '; '.join(reasons), location[0])
        return data
    raise ChunkError(chunk_id, '; '.join(reasons) or 'not in the index',
                     offset)


def _list_loader(repo):
    def load(list_id, offset):
        try:
            return load_chunk(repo, list_id, offset)
        except ChunkError as exc:
            raise ChunkError(list_id, exc.reason, offset, kind='chunk list')
    return load


def _as_chunk_errors(entries):
    """Pass ``entries`` through, a malformed list as a ChunkError."""
    try:
        yield from entries
    except chunk_list.ChunkListError as exc:
        raise ChunkError(exc.chunk_id, exc.reason, exc.offset,
                         kind='chunk list')


def disk_chunks(repo, disk):
    """Yield ``(chunk_id_or_None, length)`` of a disk record in order
    (``None``: a zero run), from its chunk list objects (manifest version
    2, read through ``repo.index``) or its inline list (version 1).

    :raises ChunkError: a list object cannot be read intact.
    """
    if 'chunks' in disk:
        for hex_id, length in disk['chunks']:
            yield (None if hex_id is None else bytes.fromhex(hex_id)), length
        return
    yield from _as_chunk_errors(chunk_list.iter_chunks(
        _list_loader(repo), bytes.fromhex(disk['chunk_list']), disk['size']))


def disk_ids(repo, disk, seen):
    """Yield ``(id, raw_length, is_list)`` of every chunk and list object
    a disk record references, skipping list objects in ``seen`` (a set,
    updated: pass one set for many disks to read each list object once).

    :raises ChunkError: a list object cannot be read intact.
    """
    if 'chunks' in disk:
        for hex_id, length in disk['chunks']:
            if hex_id is not None:
                yield bytes.fromhex(hex_id), length, False
        return
    yield from _as_chunk_errors(chunk_list.iter_ids(
        _list_loader(repo), bytes.fromhex(disk['chunk_list']), seen))


def record_damage(repo):
    """Write the damaged copies found since ``repo``'s index was read into
    a ``damaged/`` object, so later backups store those chunks again (best
    effort: a repository that cannot be written to is still read)."""
    try:
        repo.index.save_found(repo.backend, repo.keys)
    except Exception as exc:
        LOG.warning('Could not record the damaged copies found in %s: %s',
                    repo.url, exc)


# Consecutive chunks stored close together in one pack are fetched with one
# range read of at most _MAX_BATCH bytes (skipping gaps up to _MAX_GAP):
# large sequential reads from files and far fewer Swift requests.
_MAX_BATCH = 4 << 20
_MAX_GAP = 256 << 10
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


def load_batch(repo, batch):
    """Return ``(datas, error)``: the verified chunks of ``batch`` up to
    the first one without a good copy, and the :class:`ChunkError` of that
    one. A bad copy in the batch's pack falls back to another copy."""
    first_offset, _, first_id, _ = batch.items[0]
    if batch.pack_id is None:
        return [], ChunkError(first_id, 'not in the index', first_offset)
    try:
        view = memoryview(repo.backend.get_range(
            pack_mod.pack_name(batch.pack_id), batch.start,
            batch.end - batch.start))
    except base.ObjectNotFound:
        view = None
    datas = []
    for disk_offset, _, chunk_id, location in batch.items:
        try:
            if view is None:
                raise _BadCopy('pack %s is missing' % batch.pack_id)
            start = location[1] - batch.start
            datas.append(_read_copy(repo, chunk_id, location,
                                    view[start:start + location[2]]))
        except _BadCopy as exc:
            try:
                datas.append(load_chunk(repo, chunk_id, disk_offset,
                                        failed=(location, str(exc))))
            except ChunkError as error:
                return datas, error
    return datas, None


def plan(repo, disk):
    """Yield ``(offset, length)`` zero runs and :class:`_Batch` objects
    covering ``disk`` in order."""
    batch = None
    offset = 0
    for chunk_id, length in disk_chunks(repo, disk):
        if chunk_id is None:
            if batch is not None:
                yield batch
                batch = None
            yield offset, length
        else:
            item = (offset, length, chunk_id, repo.index.lookup(chunk_id))
            if batch is None or not batch.take(item):
                if batch is not None:
                    yield batch
                batch = _Batch(item)
        offset += length
    if batch is not None:
        yield batch


def hinted(repo, entries):
    """Pass the entries of a :func:`plan` through, telling the backend
    about each batch ``_PREFETCH`` batches before it is read (the file
    backend starts reading it into the page cache)."""
    window = collections.deque()
    for entry in entries:
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
    for entry in hinted(repo, plan(repo, disk)):
        if isinstance(entry, tuple):
            pending.append((entry, None))
            continue
        pending.append((entry, repo.read_pool.submit(load_batch, repo,
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
