"""backup-flows demo against the local OpenStack (tools/minicloud).

Boots a server with a volume, writes data into both disks, takes a snapshot
set, changes the data, rolls the server back and shows the bytes are back.
Then backs the server up into the default repository, deletes the server
and its volume, restores the backup onto a new server and shows that the
new server's disks hold the backed-up bytes. Every step runs
``backup-flows-manage`` exactly as an operator would.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)

from tests.functional import minicloud as mc  # noqa: E402

MiB = 1 << 20


def manage(env, *argv):
    cmd = [sys.executable, '-m', 'backup_flows.cmd.manage'] + list(argv)
    print('$ backup-flows-manage ' + ' '.join(argv), flush=True)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit('backup-flows-manage failed (%d): %s'
                 % (proc.returncode, proc.stderr.strip()))
    return proc.stdout


def write(path, text):
    data = (text.encode() * (4 * MiB // len(text) + 1))[:4 * MiB]
    mc.write_disk(path, 8 * MiB, data)
    return mc.sha256_of(path)


def _check_bytes(paths, good):
    """Print each disk's hash against the good one; whether all match."""
    ok = True
    for name, path in paths.items():
        digest = mc.sha256_of(path)
        same = digest == good[name]
        ok = ok and same
        print('   %-9s sha256 %s %s' % (name, digest,
                                       'OK' if same else 'DIFFERENT'))
    return ok


def _boot(conn, state):
    image = conn.image.find_image(mc.BASE_IMAGE, ignore_missing=False)
    flavor = conn.compute.find_flavor(mc.FLAVOR, ignore_missing=False)
    network = conn.network.find_network(mc.NETWORK, ignore_missing=False)
    print('1. Booting server "demo" with a 1 GiB volume', flush=True)
    state['server'] = conn.compute.create_server(
        name='demo', image_id=image.id, flavor_id=flavor.id,
        networks=[{'uuid': network.id}])
    state['volume'] = conn.block_storage.create_volume(size=1,
                                                       name='demo-data')


def _snapshot_and_roll_back(env, conn, state):
    """Steps 2 to 6; return the good hashes of the disks."""
    server = conn.compute.wait_for_server(state['server'], wait=mc.WAIT)
    volume = state['volume']
    conn.block_storage.wait_for_status(volume, 'available', wait=mc.WAIT)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, 'in-use', wait=mc.WAIT)
    disks = {'root disk': mc.server_disk_path(server.id),
             'volume': mc.volume_path(volume.id)}

    print('2. Writing "good data" into both disks', flush=True)
    good = {n: write(p, 'good data %s|' % n) for n, p in disks.items()}
    for name, digest in good.items():
        print('   %-9s sha256 %s' % (name, digest))

    print('3. Taking a snapshot set (server paused while captured)')
    result = json.loads(manage(env, '--format', 'json', 'snapshot',
                               'create', 'demo', '--quiesce', 'pause',
                               '--ttl', '1d'))
    state['set_id'] = result['id']
    print(manage(env, 'snapshot', 'show', state['set_id']))

    print('4. A bad change overwrites both disks', flush=True)
    for name, path in disks.items():
        digest = write(path, 'BAD CHANGE %s|' % name)
        print('   %-9s sha256 %s' % (name, digest))

    print('5. Rolling the server back to the snapshot set')
    print(manage(env, 'snapshot', 'rollback', state['set_id'], '--yes'))

    print('6. Checking the bytes')
    ok = _check_bytes(disks, good)
    server = state['server'] = conn.compute.get_server(server.id)
    print('   server status: %s' % server.status)
    if not ok or server.status != 'ACTIVE':
        sys.exit('Demo FAILED: the disks do not hold the snapshot bytes')
    print('   every disk holds the bytes it had at snapshot time.')
    manage(env, 'snapshot', 'delete', state['set_id'])
    state['set_id'] = None
    return good


def _back_up_and_restore(env, conn, state, good):
    """Steps 7 to 10."""
    print('7. Backing the server up into the default repository')
    backup = json.loads(manage(env, '--format', 'json', 'backup',
                               'create', 'demo'))
    print(manage(env, 'backup', 'show', backup['id']))

    print('8. Deleting the server and its volume', flush=True)
    _delete(conn, state['server'], state['volume'])
    state['server'] = state['volume'] = None

    print('9. Restoring the backup onto a new server')
    restored = state['restored'] = json.loads(manage(
        env, '--format', 'json', 'backup', 'restore', backup['id'],
        '--name',
        'demo-restored'))
    server = state['server'] = conn.compute.get_server(
        restored['server_id'])
    restored_volumes = restored['volume_ids']
    print('   new server %s (%s), volumes %s' % (
        server.id, server.status, ', '.join(restored_volumes)))

    print('10. Checking the restored bytes')
    paths = {'root disk': mc.server_disk_path(server.id),
             'volume': mc.volume_path(restored_volumes[0])}
    if not _check_bytes(paths, good):
        sys.exit('Demo FAILED: the restored disks differ from the '
                 'backed-up ones')


def _clean_up(env, conn, state):
    print('Cleaning up', flush=True)
    if state['set_id']:
        manage(env, 'snapshot', 'delete', state['set_id'])
    restored = state['restored']
    _delete(conn, state['server'], state['volume'])
    for volume_id in (restored or {}).get('volume_ids', []):
        _delete(conn, None, conn.block_storage.get_volume(volume_id))
    if restored and restored.get('image_id'):
        conn.image.delete_image(restored['image_id'], ignore_missing=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--keep', action='store_true',
                        help='keep the server, volume and snapshot set')
    options = parser.parse_args()
    mc.check_running()
    conn = mc.connection('minicloud')
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=mc.clouds_yaml(),
               OS_CLOUD='minicloud',
               XDG_DATA_HOME=tempfile.mkdtemp(prefix='backup-flows-demo-'))
    state = {'server': None, 'volume': None, 'set_id': None,
             'restored': None}
    try:
        _boot(conn, state)
        good = _snapshot_and_roll_back(env, conn, state)
        _back_up_and_restore(env, conn, state, good)
        print('Demo OK: rollback and restore both gave back every byte.')
    finally:
        if not options.keep:
            _clean_up(env, conn, state)


def _delete(conn, server, volume):
    if server is not None:
        conn.compute.delete_server(server.id, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=mc.WAIT)
    if volume is not None:
        conn.block_storage.wait_for_status(volume, 'available',
                                           wait=mc.WAIT)
        conn.block_storage.delete_volume(volume.id, ignore_missing=True)
        conn.block_storage.wait_for_delete(volume, wait=mc.WAIT)


if __name__ == '__main__':
    main()
