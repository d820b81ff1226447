"""Chunk lists: the order of a disk's chunks, stored as chunks themselves.

A disk of manifest version 2 names one *list object*, the root of a tree.
A list object is a blob stored like any chunk (its id is the chunk id of
its bytes; packed, compressed, sealed, deduplicated, checked and pruned
like data), of bytes::

    b"BFCL" version(1 byte, 1) entry*

and each entry is a type byte, then unsigned LEB128 varints, then an id::

    0x00 length                    a run of zero bytes (not stored)
    0x01 length id(32 bytes)       a chunk of ``length`` raw bytes
    0x02 length count id(32 bytes) a list object covering ``length``
                                   bytes in ``count`` chunks

A list object holds the entries of a stretch of the disk in order. The
writer appends entries to a level-0 object and ends it after an entry
whose id's first two bytes are below :data:`_CUT_BELOW` (1 in 1024
entries on average, a content-defined cut, so an unchanged stretch of a
disk gives the same object again and is stored once) or at
:data:`MAX_ENTRIES`; each ended object becomes a type-2 entry of the level
above, cut the same way; the last object left at the top is the root. A
list object is at most about 300 KiB; a reader or writer holds one per
level (three levels for 1 TiB of 128 KiB chunks). Readers check that the
entries of a type-2 entry cover what it claims and that the whole disk
adds up to its size: a list that does not is damaged.
"""

MAGIC = b'BFCL\x01'
ZERO, CHUNK, LIST = 0, 1, 2
ID_SIZE = 32
MAX_ENTRIES = 8192
_CUT_BELOW = 64


class ChunkListError(ValueError):
    """A list object is malformed or does not cover what it should.

    ``offset`` is the disk offset of the stretch it covers.
    """

    def __init__(self, list_id, reason, offset):
        super().__init__('chunk list %s: %s' % (list_id.hex(), reason))
        self.chunk_id = list_id
        self.reason = reason
        self.offset = offset


def _varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return out


def _read_varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7f) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError('varint too long')


def parse(data):
    """Yield ``(kind, length, count, id_or_None)`` of each entry."""
    if bytes(data[:len(MAGIC)]) != MAGIC:
        raise ValueError('not a chunk list object (version 1)')
    pos, end = len(MAGIC), len(data)
    while pos < end:
        kind = data[pos]
        length, pos = _read_varint(data, pos + 1)
        if kind == ZERO:
            yield ZERO, length, 0, None
            continue
        count = 1
        if kind == LIST:
            count, pos = _read_varint(data, pos)
        elif kind != CHUNK:
            raise ValueError('unknown entry type %d' % kind)
        if pos + ID_SIZE > end:
            raise ValueError('truncated entry')
        yield kind, length, count, bytes(data[pos:pos + ID_SIZE])
        pos += ID_SIZE


class _Level:
    def __init__(self):
        self.data = bytearray(MAGIC)
        self.entries = self.length = self.count = 0

    def add(self, kind, length, count=0, entry_id=None):
        """Append an entry; return whether the object ends after it."""
        self.data.append(kind)
        self.data += _varint(length)
        if kind == LIST:
            self.data += _varint(count)
        self.entries += 1
        self.length += length
        self.count += count
        if entry_id is None:
            return self.entries >= MAX_ENTRIES
        self.data += entry_id
        return (self.entries >= MAX_ENTRIES or
                int.from_bytes(entry_id[:2], 'big') < _CUT_BELOW)


class ListWriter:
    """Builds the list tree of one disk, entry by entry, in order.

    :param store: callable storing a list object's bytes; returns its id.
    """

    def __init__(self, store):
        self._store = store
        self._levels = [_Level()]
        self._zeros = 0
        self.chunk_count = 0
        self.zero_bytes = 0

    def add_zeros(self, length):
        """A run of ``length`` zero bytes (consecutive runs are merged)."""
        self._zeros += length
        self.zero_bytes += length

    def add_chunk(self, chunk_id, length):
        self._flush_zeros()
        self.chunk_count += 1
        if self._levels[0].add(CHUNK, length, 1, chunk_id):
            self._end(0)

    def _flush_zeros(self):
        if self._zeros:
            zeros, self._zeros = self._zeros, 0
            if self._levels[0].add(ZERO, zeros):
                self._end(0)

    def _end(self, depth):
        level = self._levels[depth]
        self._levels[depth] = _Level()
        list_id = self._store(bytes(level.data))
        if depth + 1 == len(self._levels):
            self._levels.append(_Level())
        if self._levels[depth + 1].add(LIST, level.length, level.count,
                                       list_id):
            self._end(depth + 1)

    def finish(self):
        """Store what is left; return the root list object's id."""
        self._flush_zeros()
        depth = 0
        while depth < len(self._levels) - 1:
            if self._levels[depth].entries:
                self._end(depth)
            depth += 1
        top = self._levels[-1]
        if top.entries == 1 and len(self._levels) > 1:
            # The top holds one list object: that one is the root.
            return bytes(top.data[-ID_SIZE:])
        return self._store(bytes(top.data))


def _reason(exc):
    return 'truncated entry' if isinstance(exc, IndexError) else str(exc)


def iter_chunks(load, root_id, size):
    """Yield ``(chunk_id_or_None, length)`` of a disk in order.

    :param load: ``load(list_id, offset)`` returns a list object's
        verified bytes (``offset``: where its stretch starts).
    :raises ChunkListError: a list is malformed or does not add up.
    """
    total = yield from _walk_list(load, root_id, 0, None, None)
    if total != size:
        raise ChunkListError(root_id, 'covers %d bytes, the disk has %d'
                             % (total, size), 0)


def _walk_list(load, list_id, offset, length, count):
    data = load(list_id, offset)
    start, chunks = offset, 0
    try:
        for kind, entry_length, entry_count, entry_id in parse(data):
            if kind == LIST:
                yield from _walk_list(load, entry_id, offset, entry_length,
                                      entry_count)
            else:
                yield entry_id, entry_length
            offset += entry_length
            chunks += entry_count
    except ChunkListError:
        raise
    except (ValueError, IndexError) as exc:
        raise ChunkListError(list_id, _reason(exc), start)
    if length is not None and (offset - start, chunks) != (length, count):
        raise ChunkListError(list_id, 'covers %d bytes in %d chunks, its '
                             'parent says %d in %d' % (offset - start, chunks,
                                                       length, count), start)
    return offset - start


def iter_ids(load, root_id, seen):
    """Yield ``(id, raw_length, is_list)`` for every list object and chunk
    of the tree under ``root_id``, skipping list objects in ``seen`` (a
    set, updated): their contents were yielded before.
    """
    stack = [root_id]
    while stack:
        list_id = stack.pop()
        if list_id in seen:
            continue
        data = load(list_id, None)
        try:
            entries = list(parse(data))
        except (ValueError, IndexError) as exc:
            raise ChunkListError(list_id, _reason(exc), None)
        seen.add(list_id)
        yield list_id, len(data), True
        for kind, length, _, entry_id in entries:
            if kind == CHUNK:
                yield entry_id, length, False
            elif kind == LIST:
                stack.append(entry_id)
