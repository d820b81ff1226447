"""Benchmark: server backups with backup-flows versus the cloud's own tools.

On the minicloud, one server with a 1 GiB root disk (flavor m1.tiny) and a
1 GiB volume, each filled with different synthetic data from
bench/repository/gendisk.py (about 40% zeros, 40% text-like, 20% random).
In the same run it measures, for a full backup and then, after about 3% of
the 4 KiB blocks of both disks were rewritten in scattered runs, for an
incremental one:

* backup-flows: ``backup-flows-manage backup create`` (the whole CLI: a
  paused snapshot set, export of both disks, deduplicated and compressed
  writes into a fresh file repository); stored bytes = growth of the
  repository directory;
* Cinder's backup service (Swift driver) for the volume: full, then
  incremental backup; stored bytes = growth of the Swift container;
* the manual operator path for the root disk: createImage, wait active,
  download, upload to Swift; stored bytes = size of the Swift object.

Prints times, stored bytes and the ratios backup-flows / (Cinder backup +
manual root path). Not a test::

    tools/minicloud/minicloud start --with cinder-backup
    .venv/bin/pip install -r bench/repository/requirements.txt
    .venv/bin/python bench/cloud_backup.py
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
sys.path.insert(0, os.path.join(TOP, 'bench', 'repository'))

import gendisk  # noqa: E402

from tests.functional import minicloud as mc  # noqa: E402

GiB = 1 << 30
MiB = 1 << 20
BLOCK = 4096


def wait(get, resource_id, status):
    return mc.wait_for_status(get, resource_id, status,
                              failures=('error', 'killed'), wait=1800)


def fill(path, source):
    """Copy ``source``'s bytes into the disk file, keeping zero runs as
    holes (as a guest writing its disk would leave them)."""
    zero = bytes(MiB)
    with open(source, 'rb') as src, open(path, 'r+b') as dst:
        while True:
            data = src.read(MiB)
            if not data:
                break
            if data == zero[:len(data)]:
                dst.seek(len(data), os.SEEK_CUR)
            else:
                dst.write(data)
        dst.flush()
        os.fsync(dst.fileno())


def change(path, size, seed, fraction=0.03):
    """Rewrite ``fraction`` of the 4 KiB blocks in scattered runs."""
    rng = random.Random(seed)
    target = int(size // BLOCK * fraction)
    changed = 0
    with open(path, 'r+b') as f:
        while changed < target:
            run = rng.randint(1, 32)
            start = rng.randrange(0, size // BLOCK - run)
            f.seek(start * BLOCK)
            f.write(rng.randbytes(run * BLOCK))
            changed += run
        f.flush()
        os.fsync(f.fileno())
    return changed * BLOCK


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def container_bytes(conn, container):
    try:
        return sum(obj.content_length or 0
                   for obj in conn.object_store.objects(container))
    except Exception:
        return 0


def backup_flows(env, server_id, repo):
    start = time.monotonic()
    before = du(repo)
    out = subprocess.run(
        [sys.executable, '-m', 'backup_flows.cmd.manage', '--format', 'json',
         'backup', 'create', server_id, '--repository', repo],
        env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    elapsed = time.monotonic() - start
    return elapsed, du(repo) - before, json.loads(out.stdout)


def cinder_backup(conn, volume_id, incremental):
    container = 'volumebackups'
    before = container_bytes(conn, container)
    start = time.monotonic()
    backup = conn.block_storage.create_backup(
        volume_id=volume_id, force=True, is_incremental=incremental,
        name='bench-%s' % ('incr' if incremental else 'full'))
    wait(conn.block_storage.get_backup, backup.id, 'available')
    elapsed = time.monotonic() - start
    return elapsed, container_bytes(conn, container) - before, backup.id


def manual_root(conn, server_id, container, name, workdir):
    """createImage, download, upload to Swift: what an operator scripts."""
    start = time.monotonic()
    image = conn.compute.create_server_image(server_id, 'bench-manual')
    wait(conn.image.get_image, image.id, 'active')
    local = os.path.join(workdir, 'root.img')
    with open(local, 'wb') as f:
        resp = conn.image.download_image(image.id, stream=True)
        for chunk in resp.iter_content(chunk_size=4 * MiB):
            f.write(chunk)
    size = os.path.getsize(local)
    with open(local, 'rb') as f:
        conn.object_store.upload_object(container=container, name=name,
                                        data=f)
    elapsed = time.monotonic() - start
    conn.image.delete_image(image.id)
    os.unlink(local)
    return elapsed, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seed', type=int, default=7)
    options = parser.parse_args()
    mc.check_running(('cinder-backup',))
    conn = mc.connection('minicloud')
    workdir = tempfile.mkdtemp(prefix='bf-cloud-bench-')
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=mc.clouds_yaml(),
               OS_CLOUD='minicloud', XDG_DATA_HOME=workdir)
    repo = os.path.join(workdir, 'repo')
    subprocess.run([sys.executable, '-m', 'backup_flows.cmd.manage',
                    'repository', 'init', repo], env=env, check=True,
                   capture_output=True)
    sources = [os.path.join(workdir, 'root.src'),
               os.path.join(workdir, 'volume.src')]
    for n, path in enumerate(sources):  # different data in each disk
        gendisk.write_day1(path, GiB, options.seed + 50 * n)

    image = conn.image.find_image(mc.BASE_IMAGE, ignore_missing=False)
    flavor = conn.compute.find_flavor(mc.FLAVOR, ignore_missing=False)
    net = conn.network.find_network(mc.NETWORK, ignore_missing=False)
    server = conn.compute.create_server(
        name='bench-backup', image_id=image.id, flavor_id=flavor.id,
        networks=[{'uuid': net.id}])
    volume = conn.block_storage.create_volume(size=1, name='bench-backup')
    container = 'bench-manual-%d' % os.getpid()
    conn.object_store.create_container(container)
    cinder_backups = []
    try:
        server = conn.compute.wait_for_server(server, wait=600)
        wait(conn.block_storage.get_volume, volume.id, 'available')
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        wait(conn.block_storage.get_volume, volume.id, 'in-use')
        root_path = mc.server_disk_path(server.id)
        volume_path = mc.volume_path(volume.id)
        fill(root_path, sources[0])
        fill(volume_path, sources[1])

        rows = []
        for round_name in ('full', 'incremental'):
            if round_name == 'incremental':
                changed = (change(root_path, GiB, options.seed + 1) +
                           change(volume_path, GiB, options.seed + 2))
                print('changed %.1f MiB in both disks' % (changed / MiB))
            bf_time, bf_bytes, result = backup_flows(env, server.id, repo)
            c_time, c_bytes, c_id = cinder_backup(
                conn, volume.id, round_name == 'incremental')
            cinder_backups.append(c_id)
            m_time, m_bytes = manual_root(conn, server.id, container,
                                          'root-%s.img' % round_name,
                                          workdir)
            rows.append((round_name, bf_time, bf_bytes, c_time, c_bytes,
                         m_time, m_bytes))
            print('%s: backup-flows %.1f s %d B; cinder-backup %.1f s %d B;'
                  ' manual root %.1f s %d B' % rows[-1], flush=True)
            per_disk = {d['name']: d['stored_bytes'] for d in result['disks']}
            volume_disk = result['disks'][-1]['name']
            print('   backup-flows stored per disk: %s; volume only vs '
                  'cinder-backup: %.3f' % (
                      per_disk, per_disk[volume_disk] / max(c_bytes, 1)),
                  flush=True)

        print()
        print('%-12s %12s %14s %12s %14s %12s %14s %8s %8s' % (
            'backup', 'bf time s', 'bf stored B', 'cinder s',
            'cinder B', 'manual s', 'manual B', 't ratio', 'B ratio'))
        for (name, bt, bb, ct, cb, mt, mb) in rows:
            peer_time, peer_bytes = ct + mt, cb + mb
            print('%-12s %12.1f %14d %12.1f %14d %12.1f %14d %8.2f %8.3f' % (
                name, bt, bb, ct, cb, mt, mb, bt / peer_time,
                bb / max(peer_bytes, 1)))
        print('\nratios: backup-flows / (cinder-backup of the volume + '
              'manual createImage/download/Swift upload of the root disk);'
              ' below 1 is better for backup-flows.')
    finally:
        for backup_id in reversed(cinder_backups):
            try:
                conn.block_storage.delete_backup(backup_id)
                conn.block_storage.wait_for_delete(
                    conn.block_storage.get_backup(backup_id), wait=600)
            except Exception as exc:
                print('cleanup: backup %s: %s' % (backup_id, exc))
        conn.compute.delete_server(server.id, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=600)
        wait(conn.block_storage.get_volume, volume.id, 'available')
        conn.block_storage.delete_volume(volume.id)
        for obj in conn.object_store.objects(container):
            conn.object_store.delete_object(obj, container=container)
        conn.object_store.delete_container(container)


if __name__ == '__main__':
    main()
