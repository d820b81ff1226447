"""Snapshot flows: create a snapshot set, delete it.

Store (plain data) of ``create``: ``cloud``, ``server_id`` and ``set_meta``
(see :mod:`backup_flows.cloud.snapshot_sets`). Of ``delete``: ``cloud``,
``set_id``.
"""

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from backup_flows import keys
from backup_flows import plugins
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import snapshot_set as set_tasks
from backup_flows.tasks import volume as volume_tasks


def _volume_tasks(volume):
    """(create, wait) tasks of the snapshot of one attached volume."""
    vid = volume['volume_id']
    key = keys.volume_snapshot_key(vid)
    return (volume_tasks.CreateVolumeSnapshot(
                name='create-volume-snapshot-%s' % vid, provides=key,
                inject={'volume': volume}),
            volume_tasks.WaitForVolumeSnapshotAvailable(
                name='wait-volume-snapshot-%s' % vid,
                rebind={'snapshot_id': key}))


def _capture(root, volumes):
    """Every capture requested first (the root image, the longest, first),
    then their completion waited for side by side: the instant of the set
    is as narrow as the cloud allows, and a pause no longer than it."""
    requests = linear_flow.Flow('request-captures')
    waits = unordered_flow.Flow('wait-captures')
    members = [dict(volume, role='volume') for volume in volumes]
    if root['kind'] == 'image':
        requests.add(image_tasks.CreateServerImage(name='create-root-image'))
        waits.add(image_tasks.WaitForRootCaptured(
            name='wait-root-captured',
            rebind={'image_id': keys.ROOT_IMAGE_ID}))
    else:
        members.insert(0, dict(root, role='root-volume'))
    for member in members:
        create, wait = _volume_tasks(member)
        requests.add(create)
        waits.add(wait)
    return linear_flow.Flow('capture-disks').add(requests, waits)


def get_flow(root, volumes, quiesce, planned_status=None, transient=False):
    """Flow capturing a server's disks as one snapshot set.

    :param root: ``{'kind': 'image'}`` for a root disk captured by Nova as
        an image, or ``{'kind': 'volume', 'volume_id', 'device'}`` for a
        boot volume.
    :param volumes: attached data volumes, ``[{'volume_id', 'device'}]``.
    :param quiesce: quiesce plugin holding the server still (planned).
    :param planned_status: the server's status it was planned from; the
        flow fails before anything is created if it changed.
    :param transient: the set is only a source of another flow (backup):
        recording it is not the job's point of no return.
    """
    strategy = plugins.load_quiesce(quiesce)
    flow = linear_flow.Flow(keys.FLOW_SNAPSHOT_CREATE)
    check_args = ({'inject': {'planned_status': planned_status}}
                  if planned_status else {})
    flow.add(server_tasks.CheckServerReady(name='check-server',
                                           **check_args))
    flow.add(*strategy.freeze_tasks())
    flow.add(_capture(root, volumes))
    flow.add(*strategy.thaw_tasks())
    if root['kind'] == 'image':
        flow.add(image_tasks.WaitForImageActive(
            name='wait-root-image-active',
            rebind={'image_id': keys.ROOT_IMAGE_ID}))
    flow.add(set_tasks.RecordSnapshotSet(name='record-snapshot-set',
                                         point_of_no_return=not transient))
    return flow


def get_delete_flow(image_ids, snapshot_ids, set_id=None):
    """Flow deleting every member of a snapshot set.

    :param set_id: the set's id, for a flow deleting several sets (each
        its own sub-flow, its atoms named after it); without it the set id
        comes from the store.
    """
    name, mark = keys.FLOW_SNAPSHOT_DELETE, {'name': 'mark-set-deleting'}
    if set_id:
        name = 'delete-set-%s' % set_id
        mark = {'name': 'mark-set-deleting-%s' % set_id,
                'inject': {'set_id': set_id}}
    return _delete_flow(
        name,
        [('delete-image-%s' % i, {'inject': {'image_id': i}})
         for i in image_ids],
        [('delete-volume-snapshot-%s' % i, {'inject': {'snapshot_id': i}})
         for i in snapshot_ids],
        mark=mark)


def get_transient_delete_flow(root, volumes):
    """Best-effort flow deleting the set ``get_flow`` took in this job.

    For flows that use a set only as a consistent source (backup) and run
    this after their commit point: a member that cannot be deleted is
    reported (engine.failed_cleanups) and left for ``job cleanup``; the
    flow does not fail. The members' ids come from the store.
    """
    images = []
    if root['kind'] == 'image':
        images.append(('delete-root-image',
                       {'rebind': {'image_id': keys.ROOT_IMAGE_ID}}))
    else:
        volumes = [root] + list(volumes)
    snapshots = [('delete-volume-snapshot-%s' % v['volume_id'],
                  {'rebind': {'snapshot_id':
                              keys.volume_snapshot_key(v['volume_id'])}})
                 for v in volumes]
    return _delete_flow('delete-transient-set', images, snapshots,
                        best_effort=True)


def _delete_flow(name, images, snapshots, best_effort=False, mark=None):
    """Mark the set deleting, then delete its members side by side;
    ``images`` and ``snapshots`` are (atom name, task arguments) pairs,
    ``mark`` the arguments of the marking task."""
    mark = mark or {'name': 'mark-set-deleting'}
    deletes = unordered_flow.Flow('delete-members')
    for atom, kwargs in images:
        deletes.add(image_tasks.DeleteImage(name=atom,
                                            best_effort=best_effort,
                                            **kwargs))
    for atom, kwargs in snapshots:
        deletes.add(volume_tasks.DeleteVolumeSnapshot(
            name=atom, best_effort=best_effort, **kwargs))
    return linear_flow.Flow(name).add(
        set_tasks.MarkSnapshotSetDeleting(best_effort=best_effort, **mark),
        deletes)
