"""Snapshot flows: create a snapshot set, delete it.

Store (plain data) of ``create``: ``cloud``, ``server_id`` and ``set_meta``
(see :mod:`backup_flows.snapshot_sets`). Of ``delete``: ``cloud``, ``set_id``.
"""

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from backup_flows import keys
from backup_flows import plugins
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import snapshot_set as set_tasks
from backup_flows.tasks import volume as volume_tasks


def _capture_volume(volume):
    vid = volume['volume_id']
    key = 'volume_snapshot_%s' % vid
    return linear_flow.Flow('capture-volume-%s' % vid).add(
        volume_tasks.CreateVolumeSnapshot(
            name='create-volume-snapshot-%s' % vid, provides=key,
            inject={'volume': volume}),
        volume_tasks.WaitForVolumeSnapshotAvailable(
            name='wait-volume-snapshot-%s' % vid,
            rebind={'snapshot_id': key}))


def get_flow(root, volumes, quiesce):
    """Flow capturing a server's disks as one snapshot set.

    :param root: ``{'kind': 'image'}`` for a root disk captured by Nova as
        an image, or ``{'kind': 'volume', 'volume_id', 'device'}`` for a
        boot volume.
    :param volumes: attached data volumes, ``[{'volume_id', 'device'}]``.
    :param quiesce: quiesce plugin holding the server still (planned).
    """
    strategy = plugins.load_quiesce(quiesce)
    capture = unordered_flow.Flow('capture-disks')
    if root['kind'] == 'image':
        capture.add(linear_flow.Flow('capture-root-image').add(
            image_tasks.CreateServerImage(name='create-root-image'),
            server_tasks.WaitForServerTaskIdle(name='wait-root-captured')))
    else:
        capture.add(_capture_volume(dict(root, role='root-volume')))
    for volume in volumes:
        capture.add(_capture_volume(dict(volume, role='volume')))

    flow = linear_flow.Flow(keys.FLOW_SNAPSHOT_CREATE)
    flow.add(server_tasks.CheckServerReady(name='check-server'))
    flow.add(*strategy.freeze_tasks())
    flow.add(capture)
    flow.add(*strategy.thaw_tasks())
    if root['kind'] == 'image':
        flow.add(image_tasks.WaitForImageActive(
            name='wait-root-image-active',
            rebind={'image_id': keys.ROOT_IMAGE_ID}))
    flow.add(set_tasks.RecordSnapshotSet(name='record-snapshot-set'))
    return flow


def get_delete_flow(image_ids, snapshot_ids):
    """Flow deleting every member of a snapshot set."""
    deletes = unordered_flow.Flow('delete-members')
    for image_id in image_ids:
        deletes.add(image_tasks.DeleteImage(
            name='delete-image-%s' % image_id,
            inject={'image_id': image_id}))
    for snapshot_id in snapshot_ids:
        deletes.add(volume_tasks.DeleteVolumeSnapshot(
            name='delete-volume-snapshot-%s' % snapshot_id,
            inject={'snapshot_id': snapshot_id}))
    return linear_flow.Flow(keys.FLOW_SNAPSHOT_DELETE).add(
        set_tasks.MarkSnapshotSetDeleting(name='mark-set-deleting'),
        deletes)
