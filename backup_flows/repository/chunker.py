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

import pyfastcdc

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

    def zeros(self, length):
        """A zero-filled bytes-like object of ``length`` (<= max_size)."""
        return memoryview(self._zeros)[:length]

    def chunks(self, stream):
        """Yield ``(length, data)`` for each chunk of ``stream``.

        ``data`` is ``None`` for an all-zero chunk, else a new ``bytes``
        object (pyfastcdc reuses its buffer). ``stream`` needs ``readinto``
        or ``read``; it is read to its end.
        """
        zeros = self._zeros
        for chunk in self._cdc.cut_stream(stream):
            # bytes.startswith is a memcmp; memoryview equality is not.
            if zeros.startswith(chunk.data):
                yield chunk.length, None
            else:
                yield chunk.length, bytes(chunk.data)
