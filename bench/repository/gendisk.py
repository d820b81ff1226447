"""Deterministic synthetic disk images for the repository benchmark.

``day1.img``: a sequence of regions of 1-64 MiB (4 KiB aligned), each all
zeros (about 40% of the bytes), text-like compressible data (about 40%:
Zipf-distributed words and numbers, zstd ratio about 2.5-3) or random bytes
(about 20%).

``day2.img``: day 1 with about 3% of its 4 KiB blocks rewritten in scattered
runs of 1-32 blocks (fresh text-like data) and 50 MiB + 12 KiB of new data
(half text, half random) inserted in the middle.

The same ``--seed`` and ``--size`` always give the same bytes. Usage::

    python bench/repository/gendisk.py --size 2G --out /tmp/bfbench
"""

import argparse
import os

import numpy as np

BLOCK = 4096
BUFFER = 4 << 20


def parse_size(text):
    """'2G', '512M', '4096' -> bytes."""
    units = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}
    text = text.strip().upper().rstrip('IB')
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


class TextSource:
    """Fast pseudo-text: Zipf-chosen words from a fixed vocabulary."""

    def __init__(self, rng):
        letters = np.frombuffer(b'abcdefghijklmnopqrstuvwxyz'
                                b'eeeettaaoinshr0123456789_/.-', np.uint8)
        separators = np.frombuffer(b'     \n\n,;:=()"', np.uint8)
        words = []
        for _ in range(16384):
            n = int(rng.integers(2, 12))
            word = letters[rng.integers(0, len(letters), n)]
            words.append(np.append(word, separators[rng.integers(
                0, len(separators))]))
        self.lengths = np.array([len(w) for w in words])
        self.offsets = np.concatenate(([0], np.cumsum(self.lengths)[:-1]))
        self.flat = np.concatenate(words)
        ranks = np.arange(1, len(words) + 1, dtype=np.float64)
        weights = 1.0 / ranks ** 0.9
        self.cdf = np.cumsum(weights / weights.sum())

    def generate(self, rng, size):
        """Return ``size`` bytes of text."""
        count = size // 5 + 64
        while True:
            picks = np.searchsorted(self.cdf, rng.random(count))
            lengths = self.lengths[picks]
            total = int(lengths.sum())
            if total >= size:
                break
            count *= 2
        starts = self.offsets[picks]
        ends = np.cumsum(lengths)
        index = (np.repeat(starts - (ends - lengths), lengths) +
                 np.arange(total))
        return self.flat[index[:size]].tobytes()


def regions(size, seed):
    """Yield ``(offset, length, kind)`` covering a disk of ``size``."""
    rng = np.random.default_rng(seed)
    shares = {'zero': 0.4, 'text': 0.4, 'random': 0.2}
    totals = dict.fromkeys(shares, 0)
    offset = 0
    while offset < size:
        length = int(rng.integers(256, 16384)) * BLOCK
        length = min(length, size - offset)
        # Mostly the kind furthest below its share, sometimes another, so
        # the mix is close to the target at any size but not periodic.
        kinds = sorted(shares, key=lambda k: totals[k] - shares[k] * offset)
        kind = kinds[0] if rng.random() < 0.7 else kinds[1]
        totals[kind] += length
        yield offset, length, kind
        offset += length


def content(kind, rng, text, size):
    """Bytes of one piece of a region."""
    if kind == 'zero':
        return bytes(size)
    if kind == 'text':
        return text.generate(rng, size)
    return rng.bytes(size)


def write_day1(path, size, seed):
    """Write the day 1 image; return bytes per kind."""
    text = TextSource(np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    totals = {'zero': 0, 'text': 0, 'random': 0}
    with open(path, 'wb') as f:
        for _, length, kind in regions(size, seed):
            totals[kind] += length
            if kind == 'zero':
                f.seek(length, os.SEEK_CUR)
                continue
            done = 0
            while done < length:
                n = min(BUFFER, length - done)
                f.write(content(kind, rng, text, n))
                done += n
        f.truncate(size)
    return totals


def day2_changes(size, seed, fraction=0.03):
    """Sorted ``(offset, length)`` runs of blocks rewritten on day 2."""
    rng = np.random.default_rng(seed + 2)
    blocks = size // BLOCK
    target = int(blocks * fraction)
    runs, changed = [], 0
    while changed < target:
        length = int(rng.integers(1, 33))
        start = int(rng.integers(0, blocks - length))
        runs.append((start * BLOCK, length * BLOCK))
        changed += length
    runs.sort()
    merged = []
    for start, length in runs:
        if merged and start <= merged[-1][0] + merged[-1][1]:
            end = max(merged[-1][0] + merged[-1][1], start + length)
            merged[-1] = (merged[-1][0], end - merged[-1][0])
        else:
            merged.append((start, length))
    return merged


def write_day2(day1, path, size, seed):
    """Write the day 2 image from day 1; return (changed, inserted)."""
    text = TextSource(np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 3)
    changes = day2_changes(size, seed)
    insert_at = (size // 2) // BLOCK * BLOCK
    insertion = 50 * (1 << 20) + 12 * 1024
    changed = 0
    with open(day1, 'rb') as src, open(path, 'wb') as dst:
        position = 0
        events = [(o, n, 'change') for o, n in changes]
        events.append((insert_at, 0, 'insert'))
        events.sort()
        for offset, length, what in events:
            if offset < position:
                continue
            while position < offset:
                n = min(BUFFER, offset - position)
                dst.write(src.read(n))
                position += n
            if what == 'insert':
                half = insertion // 2
                dst.write(text.generate(rng, half))
                dst.write(rng.bytes(insertion - half))
                continue
            dst.write(text.generate(rng, length))
            src.seek(length, os.SEEK_CUR)
            position += length
            changed += length
        while True:
            data = src.read(BUFFER)
            if not data:
                break
            dst.write(data)
    return changed, insertion


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='2G')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    size = parse_size(args.size) // BLOCK * BLOCK
    os.makedirs(args.out, exist_ok=True)
    day1 = os.path.join(args.out, 'day1.img')
    day2 = os.path.join(args.out, 'day2.img')
    totals = write_day1(day1, size, args.seed)
    print('day1: %s' % ', '.join('%s %.1f%%' % (k, 100.0 * v / size)
                                  for k, v in totals.items()))
    changed, inserted = write_day2(day1, day2, size, args.seed)
    print('day2: %.2f%% of blocks rewritten, %d bytes inserted'
          % (100.0 * changed / size, inserted))


if __name__ == '__main__':
    main()
