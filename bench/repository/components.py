"""CPU cost of each stage of a backup and a restore, one thread, per GiB.

Reads ``--mib`` MiB of an image in 2 MiB blocks spread evenly over it (warm
cache), cuts them with the repository's chunker (128 KiB target) and times
every stage on its own with backup-flows' own functions: the whole-disk
SHA-256, FastCDC, the zero test, the keyed BLAKE3 chunk id, zstd level 1,
the blob envelope copy, AES-256-GCM sealing; then AES-GCM opening and zstd
decompression. Prints CPU seconds per GiB of image (the sample's zero share
included: zero chunks are only tested) and per GiB of non-zero data, so the
sum can be compared with the 4.0 CPU s/GiB target. Usage::

    python bench/repository/components.py /tmp/bfbench/2G-42/day1.img
"""

import argparse
import hashlib
import os
import time

from backup_flows.repository import chunker as chunker_mod
from backup_flows.repository import compression
from backup_flows.repository import crypto

BLOCK = 2 << 20
GIB = 1 << 30


def sample(path, mib):
    """``mib`` MiB of ``path`` in 2 MiB blocks spread over it."""
    size = os.path.getsize(path)
    count = max(1, min(mib * (1 << 20) // BLOCK, size // BLOCK))
    step = size // count // 4096 * 4096
    blocks = []
    with open(path, 'rb') as f:
        for i in range(count):
            f.seek(i * step)
            blocks.append(f.read(BLOCK))
    return blocks


def timed(function, items):
    """CPU seconds of ``function`` over ``items``; its results."""
    start = time.process_time()
    results = [function(item) for item in items]
    return time.process_time() - start, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('image')
    parser.add_argument('--mib', type=int, default=256)
    parser.add_argument('--level', type=int, default=1)
    args = parser.parse_args()
    blocks = sample(args.image, args.mib)
    total = sum(len(b) for b in blocks)
    params = chunker_mod.default_params(128 << 10)
    cdc = chunker_mod.Chunker(params)._cdc
    zeros = bytes(params['max_size'])
    keys = crypto.Keys.generate()
    costs = []

    def stage(name, seconds, data_bytes):
        costs.append((name, seconds, data_bytes))

    digest = hashlib.sha256()
    stage('sha256 (whole disk)', timed(digest.update, blocks)[0], total)
    seconds, cut = timed(lambda b: [c.data for c in cdc.cut_buf(b)], blocks)
    stage('fastcdc cut', seconds, total)
    chunks = [c for block in cut for c in block]
    seconds, flags = timed(zeros.startswith, chunks)
    stage('zero test', seconds, total)
    data = [c for c, zero in zip(chunks, flags, strict=True) if not zero]
    nonzero = sum(len(c) for c in data)
    stage('blake3 keyed (chunk id)', timed(keys.chunk_id, data)[0], nonzero)
    seconds, packed = timed(
        lambda c: compression.compress(c, args.level), data)
    stage('zstd %d compress' % args.level, seconds, nonzero)
    seconds, plain = timed(lambda p: bytes([p[0]]) + p[1], packed)
    stage('envelope copy', seconds, nonzero)
    ids = [keys.chunk_id(c) for c in data]
    seconds, sealed = timed(lambda i: keys.seal_blob(plain[i], ids[i]),
                            range(len(plain)))
    stage('aes-256-gcm seal', seconds, nonzero)
    seconds, opened = timed(lambda i: keys.open_blob(sealed[i], ids[i]),
                            range(len(sealed)))
    stage('aes-256-gcm open (restore)', seconds, nonzero)
    seconds, _ = timed(lambda i: compression.decompress(
        opened[i][0], memoryview(opened[i])[1:], len(data[i])),
        range(len(opened)))
    stage('zstd decompress (restore)', seconds, nonzero)
    stored = sum(len(s) for s in sealed)
    print('%s: %d MiB sampled, %.1f%% zero chunks, %d chunks, stored/raw '
          '%.2f (zstd %d)' % (args.image, total >> 20,
                              100.0 * (total - nonzero) / total, len(data),
                              stored / nonzero, args.level))
    print('%-28s %12s %12s %10s' % ('stage', 'CPU s/GiB', 's/GiB data',
                                    'MiB/s'))
    backup = restore = 0.0
    for name, seconds, nbytes in costs:
        per_image = seconds / (total / GIB)
        if 'restore' in name:
            restore += per_image
        else:
            backup += per_image
        print('%-28s %12.2f %12.2f %10.0f' % (
            name, per_image, seconds / (nbytes / GIB),
            nbytes / (1 << 20) / seconds if seconds else 0))
    print('%-28s %12.2f' % ('sum, backup stages', backup))
    print('%-28s %12.2f' % ('sum, restore stages', restore))


if __name__ == '__main__':
    main()
