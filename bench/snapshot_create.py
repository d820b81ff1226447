"""Benchmark: ``snapshot create`` versus the bare API calls it wraps.

On the minicloud, for one server with a root disk and N volumes, times in
the same run, alternating, ``--repeat`` times each:

* bare: Nova createImage and one Cinder snapshot per volume, all requested
  at once, then waited until the image is active and every snapshot
  available (the least an operator script does);
* backup-flows: ``backup-flows-manage snapshot create`` (the whole CLI
  process: start-up, validation, the flow with its persistence, the
  metadata, the commit) with ``--quiesce none`` and ``--quiesce pause``;
* backup-flows in-process: the same operation
  (``backup_flows.operations.snapshots.create``) called in this process, as a
  long-running service calls it: no interpreter start, imports or new
  token per snapshot, the same validation, flow, persistence and commit;
* bare, new process: the bare calls in a new Python process with a new
  connection (start-up, imports, token and its first use by each
  service), the least a script run by cron pays.

Prints the median of each and the ratios to the bare calls, and how long
the guest stayed paused with ``--quiesce pause`` (from the minicloud virt
driver's event log: pause to unpause). Not a test.

    tools/minicloud/minicloud start
    .venv/bin/python bench/snapshot_create.py [--volumes 2] [--repeat 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, TOP)

from bare_snapshot import bare  # noqa: E402
from bare_snapshot import wait  # noqa: E402

from backup_flows import conf as bf_conf  # noqa: E402
from backup_flows.cloud import snapshot_sets as sets  # noqa: E402
from backup_flows.operations import snapshots  # noqa: E402

from tests.functional import minicloud as mc  # noqa: E402


def bare_process(env, server, volumes):
    """``bare`` in a new interpreter with a new connection: seconds from
    the start of the process to the end of its waits."""
    start = time.time()
    proc = subprocess.run([sys.executable,
                           os.path.join(HERE, 'bare_snapshot.py'),
                           server.id] +
                          [v.id for v in volumes],
                          env=env, check=True, capture_output=True,
                          text=True)
    return float(proc.stdout.split()[-1]) - start


def pause_seconds(server_id, since):
    """Seconds between the last pause and unpause events after ``since``."""
    events = [e for e in mc.server_events(server_id) if e['time'] >= since]
    paused = [e['time'] for e in events if e['event'] == 'pause']
    unpaused = [e['time'] for e in events if e['event'] == 'unpause']
    if not paused:
        return 0.0
    return unpaused[-1] - paused[-1]


def flows(env, conn, server, quiesce, pauses=None, in_process=False):
    since = time.time()
    start = time.monotonic()
    if in_process:
        snapshots.create(server.id, quiesce=quiesce, cloud='minicloud')
    else:
        subprocess.run([sys.executable, '-m', 'backup_flows.cmd.manage',
                        'snapshot', 'create', server.id,
                        '--quiesce', quiesce],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    if pauses is not None:
        pauses.append(pause_seconds(server.id, since))
    for snapshot_set in sets.list_sets(conn, server_id=server.id):
        for image in snapshot_set.images:
            conn.image.delete_image(image['id'])
        for snap in snapshot_set.snapshots:
            conn.block_storage.delete_snapshot(snap['id'])
            conn.block_storage.wait_for_delete(
                conn.block_storage.get_snapshot(snap['id']))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--volumes', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    mc.check_running()
    conn = mc.connection('minicloud')
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=mc.clouds_yaml(),
               OS_CLOUD='minicloud',
               XDG_DATA_HOME=tempfile.mkdtemp(prefix='bench-snapshot-'))
    os.environ['OS_CLIENT_CONFIG_FILE'] = env['OS_CLIENT_CONFIG_FILE']
    bf_conf.CONF([], project='backup-flows', default_config_files=[])
    bf_conf.CONF.set_override('state_path', os.path.join(
        env['XDG_DATA_HOME'], 'backup-flows'))
    image = conn.image.find_image(mc.BASE_IMAGE, ignore_missing=False)
    flavor = conn.compute.find_flavor(mc.FLAVOR, ignore_missing=False)
    net = conn.network.find_network(mc.NETWORK, ignore_missing=False)
    server = conn.compute.create_server(name='bench-snapshot',
                                        image_id=image.id,
                                        flavor_id=flavor.id,
                                        networks=[{'uuid': net.id}])
    volumes = []
    try:
        server = conn.compute.wait_for_server(server, wait=300)
        for n in range(args.volumes):
            volume = conn.block_storage.create_volume(
                size=1, name='bench-snapshot-%d' % n)
            volumes.append(volume)
            wait(lambda v=volume: conn.block_storage.get_volume(v.id),
                 'available')
            conn.compute.create_volume_attachment(server, volume_id=volume.id)
            wait(lambda v=volume: conn.block_storage.get_volume(v.id),
                 'in-use')
        times = {'bare API calls': [], 'snapshot create --quiesce none': [],
                 'snapshot create --quiesce pause': [],
                 'in-process --quiesce none': [],
                 'in-process --quiesce pause': [],
                 'bare API calls, new process': []}
        pauses = []
        # warm the in-process connection and persistence (a service's
        # first snapshot pays them once)
        flows(env, conn, server, 'none', in_process=True)
        for _ in range(args.repeat):
            times['bare API calls'].append(bare(conn, server, volumes))
            times['snapshot create --quiesce none'].append(
                flows(env, conn, server, 'none'))
            times['snapshot create --quiesce pause'].append(
                flows(env, conn, server, 'pause', pauses))
            times['in-process --quiesce none'].append(
                flows(env, conn, server, 'none', in_process=True))
            times['in-process --quiesce pause'].append(
                flows(env, conn, server, 'pause', pauses, in_process=True))
            times['bare API calls, new process'].append(
                bare_process(env, server, volumes))
        base = statistics.median(times['bare API calls'])
        print('server: 1 GiB root disk + %d x 1 GiB volumes; %d runs each'
              % (args.volumes, args.repeat))
        for name, values in times.items():
            median = statistics.median(values)
            print('%-34s median %6.2f s  min %6.2f s  ratio %.2f'
                  % (name, median, min(values), median / base))
        print('%-34s median %6.2f s  max %6.2f s'
              % ('guest paused (--quiesce pause)', statistics.median(pauses),
                 max(pauses)))
    finally:
        conn.compute.delete_server(server.id, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=300)
        for volume in volumes:
            wait(lambda v=volume: conn.block_storage.get_volume(v.id),
                 'available')
            conn.block_storage.delete_volume(volume.id)


if __name__ == '__main__':
    main()
