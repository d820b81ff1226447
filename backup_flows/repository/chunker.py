"""Content-defined chunking of disk streams (FastCDC 2020, pyfastcdc).

Cut points depend only on the content, so inserting bytes in the middle of a
disk only changes the chunks around the insertion. The parameters are fixed
per repository (in its ``config``) because every writer must cut the same
way for chunks to deduplicate.

pyfastcdc (Cython) was chosen over fastcdc because it streams from any
object with ``readinto`` (fastcdc needs the whole input in memory or an
mmap-able file); it cuts about 2.5 GiB/s on one core. The default target
(128 KiB, ``[repository] chunk_size_kib``) was picked with
bench/repository/chunksize.py; see bench/repository/README.rst.
"""

import io
import os
import stat

import pyfastcdc

# Bytes read from a stream at a time (at least 4 * max_size, plus up to
# max_size carried over). Larger blocks were not faster, only bigger
# (bench/repository/README.rst).
BLOCK_SIZE = 2 << 20

ALGORITHM = 'fastcdc2020'


def default_params(target_size):
    """Chunker parameters stored in a new repository's config.

    pyfastcdc's real average chunk size is ``avg_size + min_size``; with
    ``min_size = avg_size / 4`` a 64 KiB target averages 80 KiB.
    """
    return {
        'algorithm': ALGORITHM,
        'avg_size': target_size,
        'min_size': target_size // 4,
        'max_size': target_size * 4,
        'normalized_chunking': 1,
        'seed': 0,
    }


def validate_params(params):
    """Raise ``ValueError`` unless ``params`` describe a chunker we run."""
    if params.get('algorithm') != ALGORITHM:
        raise ValueError('unknown chunker %r' % params.get('algorithm'))
    for key in ('avg_size', 'min_size', 'max_size', 'normalized_chunking',
                'seed'):
        if not isinstance(params.get(key), int):
            raise ValueError('chunker parameter %s missing' % key)


class Chunker:
    """Cuts a stream into chunks.

    :param params: the repository's chunker parameters.
    """

    def __init__(self, params):
        validate_params(params)
        self.max_size = params['max_size']
        self._cdc = pyfastcdc.FastCDC(
            avg_size=params['avg_size'], min_size=params['min_size'],
            max_size=params['max_size'],
            normalized_chunking=params['normalized_chunking'],
            seed=params['seed'])
        self._zeros = bytes(self.max_size)

    def chunks(self, stream, on_block=None):
        """Yield ``(length, data)`` for each chunk of ``stream``.

        ``data`` is ``None`` for an all-zero chunk, else a read-only
        memoryview of the block it was read into (blocks are never reused,
        so it stays valid). ``stream`` needs ``readinto`` or ``read``; it
        is read to its end in blocks of ``BLOCK_SIZE`` bytes, and
        ``on_block`` (when given) is called with every block, in order,
        before its chunks are yielded (a whole-stream hash costs one call
        per block instead of one per chunk).

        The cut points are those of pyfastcdc's ``cut_stream``: a cut is
        only looked for with at least ``max_size`` bytes ahead (or at the
        end of the stream); the bytes after the last such cut of a block
        are carried into the next block.
        """
        zeros = self._zeros
        block_size = max(BLOCK_SIZE, 4 * self.max_size)
        fill = _filler(stream)
        carry = memoryview(b'')
        eof = False
        while not eof:
            block = bytearray(len(carry) + block_size)
            block[:len(carry)] = carry
            filled, eof = fill(block, len(carry))
            view = memoryview(block)[:filled].toreadonly()
            if on_block is not None and filled > len(carry):
                on_block(view[len(carry):])
            # Chunks starting after `last` might be cut differently with
            # more bytes: they wait for the next block.
            last = filled if eof else filled - self.max_size
            carry = memoryview(b'')
            for chunk in self._cdc.cut_buf(view):
                if chunk.offset > last:
                    carry = view[chunk.offset:]
                    break
                # bytes.startswith is a memcmp; memoryview equality is not.
                if zeros.startswith(chunk.data):
                    yield chunk.length, None
                else:
                    yield chunk.length, chunk.data


def _filler(stream):
    """Return ``fill(block, start) -> (filled, eof)`` reading ``stream``
    into ``block`` from ``start`` until it is full or the stream ends."""
    readinto = getattr(stream, 'readinto', None)
    drop = _drop_behind(stream)
    if readinto is None:
        def readinto(view):
            data = stream.read(len(view))
            view[:len(data)] = data
            return len(data)

    def fill(block, start):
        view = memoryview(block)
        eof = False
        while start < len(block) and not eof:
            count = readinto(view[start:])
            eof = not count
            start += count or 0
        drop()
        return start, eof
    return fill


def _drop_behind(stream):
    """Return a function that drops what was read of ``stream`` from the
    page cache when it is a regular file (a disk image is read once; as
    borg does, it should not evict the pages other programs use)."""
    try:
        fd = stream.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return lambda: None
    done = os.lseek(fd, 0, os.SEEK_CUR)

    def drop():
        nonlocal done
        position = os.lseek(fd, 0, os.SEEK_CUR)
        os.posix_fadvise(fd, done, position - done, os.POSIX_FADV_DONTNEED)
        done = position
    return drop
