"""zstd compression of chunks and metadata, skipping incompressible data.

A compressed payload is tagged with a one-byte codec: ``0`` stored as is,
``1`` a zstd frame (with its content size in the frame header). zstd objects
are not thread safe, so each thread keeps its own.
"""

import threading

import zstandard

CODEC_NONE = 0
CODEC_ZSTD = 1

# A chunk is stored compressed only when zstd saves at least 1/32 of it;
# below that the CPU spent decompressing on restore is not worth it.
_MIN_SAVING_SHIFT = 5

_local = threading.local()


def _compressor(level):
    compressors = getattr(_local, 'compressors', None)
    if compressors is None:
        compressors = _local.compressors = {}
    compressor = compressors.get(level)
    if compressor is None:
        compressor = compressors[level] = zstandard.ZstdCompressor(
            level=level)
    return compressor


def _decompressor():
    decompressor = getattr(_local, 'decompressor', None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def compress(data, level):
    """Return ``(codec, payload)`` for ``data`` at zstd ``level``."""
    packed = _compressor(level).compress(data)
    if len(packed) <= len(data) - (len(data) >> _MIN_SAVING_SHIFT):
        return CODEC_ZSTD, packed
    return CODEC_NONE, data


def decompress(codec, payload, max_size):
    """Invert :func:`compress`; raise ``ValueError`` on a bad payload.

    ``payload`` is returned as is (no copy) when it is not compressed.
    """
    if codec == CODEC_NONE:
        return payload
    if codec == CODEC_ZSTD:
        try:
            return _decompressor().decompress(payload,
                                              max_output_size=max_size)
        except zstandard.ZstdError as exc:
            raise ValueError('zstd frame is damaged: %s' % exc)
    raise ValueError('unknown codec %d' % codec)
