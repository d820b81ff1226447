"""Rollback flow: return a server's disks to a snapshot set.

Store (plain data): ``cloud``, ``server_id``. The flow stops a running server,
detaches each volume of the set, reverts it to its snapshot and attaches it
again, rebuilds the root disk from the set's image, then starts the server
when it was running before.
"""

from taskflow.patterns import linear_flow

from backup_flows import keys
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks


def get_flow(image_id, volumes):
    """Flow rolling a server back to a snapshot set.

    :param image_id: image of the root disk, or None to keep the root disk.
    :param volumes: ``[{'volume_id', 'snapshot_id', 'device'}]``.
    """
    flow = linear_flow.Flow(keys.FLOW_SNAPSHOT_ROLLBACK)
    flow.add(server_tasks.CheckServerReady(name='check-server'),
             server_tasks.StopServer(name='stop-server'))
    for volume in volumes:
        vid = volume['volume_id']
        flow.add(linear_flow.Flow('rollback-volume-%s' % vid).add(
            volume_tasks.DetachVolume(name='detach-volume-%s' % vid,
                                      inject={'volume': volume}),
            volume_tasks.RevertVolumeToSnapshot(
                name='revert-volume-%s' % vid, inject={'volume': volume}),
            volume_tasks.AttachVolume(name='attach-volume-%s' % vid,
                                      inject={'volume': volume})))
    if image_id:
        flow.add(server_tasks.RebuildServer(name='rebuild-server',
                                            inject={'image_id': image_id}))
    flow.add(server_tasks.StartServer(name='start-server'))
    return flow
