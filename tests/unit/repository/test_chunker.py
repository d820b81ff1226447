"""The block-wise chunker cuts exactly where pyfastcdc's stream cutter does,
whatever the block size, and hands every byte to ``on_block`` in order."""

import io
import random

import testtools

from backup_flows.repository import chunker


def _stream_bytes(rng, size):
    data = bytearray(rng.randbytes(size))
    for _ in range(4):
        start = rng.randrange(max(size, 1))
        end = min(size, start + rng.randrange(300000))
        data[start:end] = bytes(end - start)
    return bytes(data)


class ChunkerTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.chunker = chunker.Chunker(chunker.default_params(16 << 10))
        self.addCleanup(setattr, chunker, 'BLOCK_SIZE', chunker.BLOCK_SIZE)

    def test_same_cuts_as_the_stream_cutter(self):
        rng = random.Random(7)
        for size in (0, 1, 70000, 65536 * 3, 2500000):
            for block in (70000, 1 << 20, 8 << 20):
                chunker.BLOCK_SIZE = block
                data = _stream_bytes(rng, size)
                expected = [c.length for c in
                            self.chunker._cdc.cut_stream(io.BytesIO(data))]
                blocks = []
                chunks = list(self.chunker.chunks(io.BytesIO(data),
                                                  blocks.append))
                self.assertEqual(expected, [length for length, _ in chunks],
                                 'size %d block %d' % (size, block))
                self.assertEqual(data, b''.join(
                    bytes(length) if chunk is None else bytes(chunk)
                    for length, chunk in chunks))
                self.assertEqual(data, b''.join(bytes(b) for b in blocks))

    def test_zero_chunks_and_streams_with_read_only(self):
        class ReadOnly:
            def __init__(self, data):
                self._file = io.BytesIO(data)

            def read(self, size):
                return self._file.read(min(size, 5000))

        data = bytes(300000) + b'x' * 1000
        chunks = list(self.chunker.chunks(ReadOnly(data)))
        self.assertIsNone(chunks[0][1])
        self.assertEqual(len(data), sum(length for length, _ in chunks))
        self.assertEqual(b'x' * 1000, bytes(chunks[-1][1])[-1000:])
