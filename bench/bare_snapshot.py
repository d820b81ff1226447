"""The bare API calls of a snapshot set, for bench/snapshot_create.py.

Imports only openstacksdk, as a script making these calls would. Run as a
program (``bare_snapshot.py SERVER_ID [VOLUME_ID...]``, cloud
``minicloud``), it makes them once with a new connection and prints the
time its waits ended.
"""

import sys
import time

import openstack


def wait(fetch, ready, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        resource = fetch()
        if resource.status == ready:
            return resource
        if resource.status in ('error', 'killed'):
            raise RuntimeError('%s went %s' % (resource.id, resource.status))
        if time.monotonic() > deadline:
            raise RuntimeError('%s still %s' % (resource.id, resource.status))
        time.sleep(0.2)


def bare(conn, server, volumes, done=None):
    """Seconds of the bare calls (their cleanup not counted); ``done()``
    is called when they finished, before the cleanup."""
    start = time.monotonic()
    image = conn.compute.create_server_image(server.id, 'bench-bare')
    snaps = [conn.block_storage.create_snapshot(volume_id=v.id, force=True,
                                                name='bench-bare')
             for v in volumes]
    wait(lambda: conn.image.get_image(image.id), 'active')
    for snap in snaps:
        wait(lambda s=snap: conn.block_storage.get_snapshot(s.id),
             'available')
    elapsed = time.monotonic() - start
    if done is not None:
        done()
    conn.image.delete_image(image.id)
    for snap in snaps:
        conn.block_storage.delete_snapshot(snap.id)
        conn.block_storage.wait_for_delete(snap)
    return elapsed


def bare_once(server_id, volume_ids):
    """The child of ``bare_process``: prints the time its waits ended."""
    conn = openstack.connect(cloud='minicloud')
    ended = []
    bare(conn, conn.compute.get_server(server_id),
         [conn.block_storage.get_volume(v) for v in volume_ids],
         done=lambda: ended.append(time.time()))
    print(ended[0])


if __name__ == '__main__':
    bare_once(sys.argv[1], sys.argv[2:])
