"""Disk images built from real file bytes for the repository benchmark.

``day1.img``: the regular files under ``--root`` (default ``/usr``) laid out
in sorted path order, each starting on a 4 KiB boundary (the tail of its
last block zero), with runs of zeros (64 KiB - 8 MiB, free space) and of
random bytes (64 KiB - 2 MiB, encrypted or compressed data) between them:
about 60% of the image is file bytes, 30% zeros (alignment tails
included), 10% random. It reads like a used file system: executables,
libraries, scripts, documentation, compressed archives, locale data.

``day2.img``: about 3% of the image rewritten in runs starting at bytes
picked uniformly over the file bytes (a file of up to 32 blocks rewritten
whole, else 1-32 blocks of it; each run's bytes XORed with a constant, so
they are new but compress as the file did)
and 50 MiB + 12 KiB inserted where the file nearest the middle starts (half
file bytes XORed with a constant, half random), which shifts every later
byte by a non-multiple of 4 KiB.

The same ``--root`` contents, ``--seed`` and ``--size`` always give the
same bytes; ``fingerprint()`` (a hash of the file list and sizes) tells
when the contents changed. Usage::

    python bench/repository/fileimage.py --size 2G --out /tmp/bfbench/f
"""

import argparse
import hashlib
import os
import stat

import gendisk
import numpy as np

BLOCK = gendisk.BLOCK
BUFFER = 4 << 20
SHARES = {'file': 0.6, 'zero': 0.3, 'random': 0.1}
INSERTION = 50 * (1 << 20) + 12 * 1024
# Part of the stamp: bump it when the layout or the change set changes, so
# images made by an older version are not reused.
VERSION = 2


def list_files(root):
    """Sorted ``(path, size)`` of the non-empty regular files under root."""
    files = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames.sort()
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size:
                files.append((path, st.st_size))
    files.sort()
    return files


def fingerprint(files):
    """A short hash of the file list and sizes."""
    digest = hashlib.sha256()
    for path, size in files:
        digest.update(b'%s\0%d\n' % (path.encode('utf-8', 'surrogateescape'),
                                     size))
    return digest.hexdigest()[:16]


def layout(files, size, seed):
    """Return ``[(offset, length, kind, path)]`` covering ``size`` bytes.

    ``kind`` is 'file' (``path`` set; ``length`` is the file's size, the
    zero tail up to the next block is not listed), 'zero' or 'random'.
    """
    rng = np.random.default_rng(seed)
    totals = dict.fromkeys(SHARES, 0)
    extents, offset, index = [], 0, 0
    while offset < size:
        # Mostly the kind furthest below its share, sometimes another.
        kinds = sorted(SHARES, key=lambda k: totals[k] - SHARES[k] * offset)
        kind = kinds[0] if rng.random() < 0.7 else kinds[1]
        if kind == 'file':
            # A group of consecutive files, like a directory tree.
            group = int(rng.integers(1, 65)) << 20
            added = 0
            while added < group and offset < size:
                if index == len(files):
                    raise ValueError(
                        'only %d MiB of files for a %d MiB image: pick a '
                        'smaller --size or a larger --root' % (
                            sum(s for _, s in files) >> 20, size >> 20))
                path, length = files[index]
                index += 1
                length = min(length, size - offset)
                extents.append((offset, length, 'file', path))
                span = -(-length // BLOCK) * BLOCK
                totals['file'] += length
                totals['zero'] += span - length
                added += span
                offset += span
        else:
            top = 2048 if kind == 'zero' else 512
            span = int(rng.integers(16, top + 1)) * BLOCK
            span = min(span, size - offset)
            extents.append((offset, span, kind, None))
            totals[kind] += span
            offset += span
    return extents


def copy_file(dst, path, length):
    """Write ``length`` bytes of ``path`` (zero-padded if it shrank)."""
    done = 0
    try:
        with open(path, 'rb') as src:
            while done < length:
                data = src.read(min(BUFFER, length - done))
                if not data:
                    break
                dst.write(data)
                done += len(data)
    except OSError:
        pass
    dst.write(bytes(length - done))


def write_day1(path, extents, size, seed):
    """Write the day 1 image; return bytes per kind."""
    rng = np.random.default_rng(seed + 1)
    totals = dict.fromkeys(SHARES, 0)
    with open(path, 'wb') as f:
        for offset, length, kind, source in extents:
            totals[kind] += length
            if kind == 'zero':
                continue
            f.seek(offset)
            if kind == 'file':
                copy_file(f, source, length)
                continue
            for done in range(0, length, BUFFER):
                f.write(rng.bytes(min(BUFFER, length - done)))
        f.truncate(size)
    totals['zero'] = size - totals['file'] - totals['random']
    return totals


def day2_changes(extents, size, seed, fraction=0.03):
    """Sorted, merged ``(offset, length, xor byte)`` runs rewritten.

    Each run starts at a byte picked uniformly over the file bytes (so the
    runs spread over the image as gendisk's do, not into the directories of
    many small files): a file of at most 32 blocks is rewritten whole, else
    the 1-32 blocks from the picked one.
    """
    rng = np.random.default_rng(seed + 2)
    files = [(o, n) for o, n, kind, _ in extents if kind == 'file']
    ends = np.cumsum([n for _, n in files])
    target = int(size * fraction)
    runs, merged = [], []
    while sum(n for _, n, _ in merged) < target:
        for _ in range(64):
            byte = int(rng.integers(0, int(ends[-1])))
            index = int(np.searchsorted(ends, byte, side='right'))
            offset, length = files[index]
            span = -(-length // BLOCK) * BLOCK
            if span > 32 * BLOCK:
                inside = (byte - int(ends[index]) + length) // BLOCK
                blocks = int(rng.integers(1, 33))
                start = min(inside, span // BLOCK - blocks)
                offset, span = offset + start * BLOCK, blocks * BLOCK
            span = min(span, size - offset)
            runs.append((offset, span, int(rng.integers(1, 256))))
        merged = []
        for start, length, key in sorted(runs):
            if merged and start <= merged[-1][0] + merged[-1][1]:
                last = merged[-1]
                end = max(last[0] + last[1], start + length)
                merged[-1] = (last[0], end - last[0], last[2])
            else:
                merged.append((start, length, key))
    return merged


def insertion_point(extents, size):
    """Offset of the first file extent at or after the middle."""
    for offset, _, kind, _ in extents:
        if kind == 'file' and offset >= size // 2:
            return offset
    return (size // 2) // BLOCK * BLOCK


def xor(data, key):
    return (np.frombuffer(data, np.uint8) ^ np.uint8(key)).tobytes()


def write_day2(day1, path, extents, size, seed):
    """Write the day 2 image from day 1; return (changed, inserted)."""
    rng = np.random.default_rng(seed + 3)
    changes = day2_changes(extents, size, seed)
    events = [(o, n, key) for o, n, key in changes]
    events.append((insertion_point(extents, size), 0, None))
    events.sort(key=lambda e: (e[0], e[2] is not None))
    changed = 0
    with open(day1, 'rb') as src, open(path, 'wb') as dst:
        half = INSERTION // 2
        with open(day1, 'rb') as head:
            inserted_files = xor(head.read(half), 0xa5)
        position = 0
        for offset, length, key in events:
            if offset < position:
                continue
            while position < offset:
                n = min(BUFFER, offset - position)
                dst.write(src.read(n))
                position += n
            if key is None:
                dst.write(inserted_files)
                dst.write(rng.bytes(INSERTION - half))
                continue
            dst.write(xor(src.read(length), key))
            position += length
            changed += length
        while True:
            data = src.read(BUFFER)
            if not data:
                break
            dst.write(data)
    return changed, INSERTION


def stamp(root, size, seed):
    """What the images of these arguments hold: root, size, seed, files."""
    files = list_files(root)
    extents = layout(files, size, seed)
    used = sum(1 for e in extents if e[2] == 'file')
    return 'v%d %s %d %d %d files %s' % (VERSION, root, size, seed, used,
                                         fingerprint(files[:used]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='2G')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--root', default='/usr')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    size = gendisk.parse_size(args.size) // BLOCK * BLOCK
    files = list_files(args.root)
    try:
        extents = layout(files, size, args.seed)
    except ValueError as e:
        parser.exit(2, 'fileimage.py: %s\n' % e)
    os.makedirs(args.out, exist_ok=True)
    day1 = os.path.join(args.out, 'day1.img')
    day2 = os.path.join(args.out, 'day2.img')
    totals = write_day1(day1, extents, size, args.seed)
    used = sum(1 for e in extents if e[2] == 'file')
    print('day1: %d files of %s (fingerprint %s), %s' % (
        used, args.root, fingerprint(files[:used]),
        ', '.join('%s %.1f%%' % (k, 100.0 * v / size)
                  for k, v in totals.items())))
    changed, inserted = write_day2(day1, day2, extents, size, args.seed)
    with open(os.path.join(args.out, 'stamp'), 'w') as f:
        f.write(stamp(args.root, size, args.seed) + '\n')
    print('day2: %.2f%% of the image rewritten, %d bytes inserted'
          % (100.0 * changed / size, inserted))


if __name__ == '__main__':
    main()
