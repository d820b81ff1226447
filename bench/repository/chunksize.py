"""Pick the FastCDC target chunk size: throughput vs day-2 added bytes.

For each target size, back up day1.img then day2.img (made by gendisk.py)
into a fresh encrypted repository in this process (warm page cache) and
print throughput, CPU seconds per GiB and the bytes day 2 added. Usage::

    python bench/repository/chunksize.py /tmp/bfbench/2G-42 \\
        --sizes 64,128,256
"""

import argparse
import os
import shutil
import tempfile
import time

from backup_flows.repository import Repository
from backup_flows.repository import Secret


def backup(repo, path):
    """Back up one image; return (seconds, cpu seconds, bytes)."""
    start, cpu = time.monotonic(), time.process_time()
    with open(path, 'rb', buffering=0) as image, \
            repo.start_backup() as session:
        info = session.write_disk('disk', image)
        session.commit('bench')
    return time.monotonic() - start, time.process_time() - cpu, info['size']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('images')
    parser.add_argument('--sizes', default='64,128,256')
    args = parser.parse_args()
    secret = Secret(passphrase='bench')
    print('%8s %12s %12s %12s %14s %14s %10s' % (
        'KiB', 'day1 MiB/s', 'day1 CPU/GiB', 'day2 MiB/s', 'day1 stored',
        'day2 added', 'chunks'))
    for kib in (int(s) for s in args.sizes.split(',')):
        path = tempfile.mkdtemp(prefix='bfchunk-', dir='/tmp')
        try:
            repo = Repository.init(path, encrypted=True, secret=secret,
                                   chunk_size=kib << 10)
            with repo:
                wall1, cpu1, size1 = backup(
                    repo, os.path.join(args.images, 'day1.img'))
                stored1 = repo.stats()['stored_bytes']
                wall2, _, size2 = backup(
                    repo, os.path.join(args.images, 'day2.img'))
                stats = repo.stats()
            print('%8d %12.0f %12.2f %12.0f %14d %14d %10d' % (
                kib, size1 / wall1 / (1 << 20), cpu1 / (size1 / (1 << 30)),
                size2 / wall2 / (1 << 20), stored1,
                stats['stored_bytes'] - stored1, stats['chunks']),
                flush=True)
        finally:
            shutil.rmtree(path)


if __name__ == '__main__':
    main()
