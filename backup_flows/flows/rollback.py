"""Rollback flow: return a server's disks to a snapshot set.

Store (plain data): ``cloud``, ``server_id``, ``job_id``. The flow checks the
server; with a safety set, turns the set's snapshot of each volume to be
reverted into an image of the set (Cinder reverts a volume only to its
newest snapshot, and the safety snapshot is newer than the target's); then
stops a running server, detaches each volume, reverts it to its snapshot
(or re-images it from the set's image of it) and attaches it again,
rebuilds the root disk from the set's image, and starts the server when it
was running before.

Reverting a volume, re-imaging it and rebuilding the root disk cannot be
undone (:func:`irreversible_atoms` names those tasks); every other task
reverts. Each irreversible task is a point of no return: ``job abort`` of a
rollback interrupted after one of them finishes the rollback (volumes
attached again, server started as before) instead of half-undoing it.
"""

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from backup_flows import keys
from backup_flows import tags
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import snapshot_set as set_tasks
from backup_flows.tasks import volume as volume_tasks

REBUILD_SERVER = 'rebuild-server'


def restore_volume_atom(volume):
    """Name of the task returning ``volume`` (a ``volumes`` item of
    :func:`get_flow`) to the set's bytes."""
    kind = 'reimage' if volume.get('image_id') else 'revert'
    return '%s-volume-%s' % (kind, volume['volume_id'])


def irreversible_atoms(image_id, volumes):
    """Names of the tasks of the flow that cannot be undone, in order."""
    names = [restore_volume_atom(volume) for volume in volumes]
    return names + ([REBUILD_SERVER] if image_id else [])


def _safety_image(set_id, volume):
    """Copy the safety snapshot of one volume into an image of the set
    (through a temporary volume: Cinder uploads volumes, not snapshots),
    then delete the temporary volume and the snapshot."""
    vid = volume['volume_id']
    volume_key = keys.safety_volume_key(vid)
    image_key = keys.safety_image_key(vid)
    volume_spec = {'role': tags.ROLE_SAFETY_VOLUME % vid,
                   'name': 'backup-flows-safety-%s' % vid,
                   'size_gb': volume['size_gb']}
    return linear_flow.Flow('safety-image-%s' % vid).add(
        volume_tasks.CreateVolume(
            name='create-safety-volume-%s' % vid, provides=volume_key,
            inject={'spec': volume_spec,
                    'snapshot_id': volume['snapshot_id']}),
        volume_tasks.WaitForVolumeAvailable(
            name='wait-safety-volume-%s' % vid,
            rebind={'volume_id': volume_key}),
        image_tasks.UploadVolumeToImage(
            name='upload-safety-volume-%s' % vid, provides=image_key,
            inject={'spec': {'role': tags.ROLE_SAFETY_IMAGE % vid,
                             'set_id': set_id}},
            rebind={'volume_id': volume_key}),
        image_tasks.WaitForImageActive(
            name='wait-safety-image-%s' % vid,
            rebind={'image_id': image_key}),
        set_tasks.RecordImageAsSetMember(
            name='record-safety-image-%s' % vid,
            inject={'snapshot_id': volume['snapshot_id']},
            rebind={'image_id': image_key}),
        volume_tasks.DeleteVolume(
            name='delete-safety-volume-%s' % vid,
            rebind={'volume_id': volume_key}),
        volume_tasks.DeleteVolumeSnapshot(
            name='delete-safety-snapshot-%s' % vid,
            inject={'snapshot_id': volume['snapshot_id']}))


def _rollback_volume(volume):
    vid = volume['volume_id']
    task = (volume_tasks.ReimageVolume if volume.get('image_id')
            else volume_tasks.RevertVolumeToSnapshot)
    restore = task(name=restore_volume_atom(volume),
                   inject={'volume': volume}, point_of_no_return=True)
    return linear_flow.Flow('rollback-volume-%s' % vid).add(
        volume_tasks.DetachVolume(name='detach-volume-%s' % vid,
                                  inject={'volume': volume}),
        restore,
        volume_tasks.AttachVolume(name='attach-volume-%s' % vid,
                                  inject={'volume': volume}))


def get_flow(image_id, volumes, safety=None):
    """Flow rolling a server back to a snapshot set.

    :param image_id: image of the root disk, or None to keep the root disk.
    :param volumes: ``[{'volume_id', 'device', 'snapshot_id'}]`` for a
        volume reverted to its snapshot, ``[{'volume_id', 'device',
        'image_id', 'bootable', 'image_metadata'}]`` for one re-imaged from
        the set's image of it.
    :param safety: the safety set taken just before, ``{'set_id',
        'volumes': [{'volume_id', 'snapshot_id', 'size_gb'}]}``: its
        snapshots of the volumes to revert, to turn into images; or None.
    """
    flow = linear_flow.Flow(keys.FLOW_SNAPSHOT_ROLLBACK)
    flow.add(server_tasks.CheckServerReady(name='check-server'))
    if safety and safety['volumes']:
        images = unordered_flow.Flow('safety-images')
        for volume in safety['volumes']:
            images.add(_safety_image(safety['set_id'], volume))
        flow.add(images)
    flow.add(server_tasks.StopServer(name='stop-server'))
    for volume in volumes:
        flow.add(_rollback_volume(volume))
    if image_id:
        flow.add(server_tasks.RebuildServer(name=REBUILD_SERVER,
                                            inject={'image_id': image_id},
                                            point_of_no_return=True))
    flow.add(server_tasks.StartServer(name='start-server'))
    return flow
