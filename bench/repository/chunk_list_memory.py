"""Writer memory against disk size: a chunk-list round trip of large disks.

Each size runs in its own process: a file repository (default chunk size)
gets one backup of a synthetic sparse disk of that size (1 MiB blocks, one
in eight all zero, the others drawn from 64 random blocks: every chunk is
new or deduplicated, so the disk has one chunk-list entry per ~128 KiB but
stores little), then the disk is read back and its SHA-256 compared. Prints
per size: chunks, list objects, seconds, the peak RSS of the writing
process and of the whole round trip. Usage::

    python bench/repository/chunk_list_memory.py [--sizes 2,8] [--dir DIR]

Run it from the tree to measure (``PYTHONPATH=.``); with an older tree on
PYTHONPATH it measures that one (the memory of per-chunk lists in the
manifest and the flow store, before chunk list objects).
"""

import argparse
import hashlib
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

_BLOCK = 1 << 20


class SyntheticDisk(io.RawIOBase):
    """``size`` bytes of 1 MiB blocks drawn from a fixed pool, or zeros."""

    def __init__(self, size, seed=1):
        self.remaining = size
        rng = random.Random(seed)
        self.pool = [rng.randbytes(_BLOCK) for _ in range(64)]
        self.rng = random.Random(seed + 1)
        self.digest = hashlib.sha256()
        self.block = memoryview(b'')

    def readable(self):
        return True

    def readinto(self, buffer):
        view = memoryview(buffer).cast('B')
        if not self.remaining:
            return 0
        if not self.block:
            block = (bytes(_BLOCK) if self.rng.random() < 0.125
                     else self.rng.choice(self.pool))
            self.block = memoryview(block)[:self.remaining]
        count = min(len(view), len(self.block))
        view[:count] = self.block[:count]
        self.digest.update(self.block[:count])
        self.block = self.block[count:]
        self.remaining -= count
        return count


def _child(path, size):
    from backup_flows.repository import Repository
    repo = Repository.init(path)
    disk = SyntheticDisk(size)
    started = time.monotonic()
    with repo.start_backup() as session:
        session.write_disk('vda', disk)
        record = session.disk_record('vda')
        backup_id = session.commit('bench')
    written = time.monotonic() - started
    write_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    digest = hashlib.sha256()
    for data in repo.read_disk(backup_id, 'vda'):
        digest.update(data)
    read = time.monotonic() - started
    repo.close()
    lists = None
    if 'chunk_list' in record:
        lists = sum(1 for _ in _list_ids(path, backup_id))
    print(json.dumps({
        'size': size, 'chunks': record.get('chunk_count',
                                           len(record.get('chunks', ()))),
        'list_objects': lists, 'write_s': round(written, 1),
        'read_s': round(read, 1), 'write_rss_mib': write_rss // 1024,
        'rss_mib': resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss // 1024,
        'record_bytes': len(json.dumps(record)),
        'ok': digest.hexdigest() == disk.digest.hexdigest()}))


def _list_ids(path, backup_id):
    from backup_flows.repository import Repository
    from backup_flows.repository import reader
    with Repository.open(path) as repo:
        repo.load_index()
        disk = repo.show_backup(backup_id)['disks'][0]
        for _, _, is_list in reader.disk_ids(repo, disk, set()):
            if is_list:
                yield True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='2,8', help='GiB, comma-separated')
    parser.add_argument('--dir', default=None)
    parser.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    print('%6s %9s %6s %8s %7s %10s %9s %7s %s' % (
        'GiB', 'chunks', 'lists', 'write s', 'read s', 'write RSS',
        'RSS', 'record', 'bytes back'))
    for gib in args.sizes.split(','):
        work = tempfile.mkdtemp(dir=args.dir, prefix='bf-chunklist-')
        try:
            out = subprocess.run(
                [sys.executable, __file__, '--child',
                 os.path.join(work, 'repo'), str(int(float(gib) * (1 << 30)))],
                check=True, capture_output=True, text=True).stdout
        finally:
            shutil.rmtree(work)
        r = json.loads(out.strip().splitlines()[-1])
        print('%6s %9d %6s %8.1f %7.1f %6d MiB %5d MiB %5d B %s' % (
            gib, r['chunks'], r['list_objects'] or '-', r['write_s'],
            r['read_s'], r['write_rss_mib'], r['rss_mib'], r['record_bytes'],
            'identical' if r['ok'] else 'DIFFERENT'))


if __name__ == '__main__':
    main()
