"""Drill flow: restore a backup's disks, read them back through the cloud
and compare them with the backup before any guest can change them, boot a
throw-away server from them, delete it all.

Shape::

    verify-backup-data (optional: the repository check of ``backup verify``)
    check-backup, restore-disks (the restore flow's own tasks)
    read-back-volumes (side by side, per restored volume <d>, still
        detached): upload-drill-volume-<d> → wait-drill-image-<d>
    compare-disks (side by side): compare-disk-<d> (the root disk of an
        image-backed server: the restored image Nova boots from)
    check-drill-disks (a disk differing fails the drill: no server)
    create-server → wait-server-active (the restore flow's: the server
        drill-<backup id> boots from the disks compared)
    delete-drill-server (its volumes survive it and are released)
    clean-up (side by side): delete-drill-image-<d>, delete-drill-volume-<d>,
        delete-restored-image-<root>
    report-drill

Store (plain data): ``cloud``, ``job_id``, ``backup_id`` and
``repository_url``, as for a restore. Every server, volume and image the
drill creates carries its job id and is deleted by the revert of the task
that created it: a failure or ``job abort`` leaves nothing. ``job resume``
of an interrupted drill finishes it, its own clean-up tasks included. The
flow provides ``result`` (``{'server_id', 'disks', 'cleaned_up'}``) and,
with a repository check, ``verification``.
"""

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from backup_flows import keys
from backup_flows import tags
from backup_flows.flows import restore as restore_flow
from backup_flows.flows import verify as verify_flow
from backup_flows.tasks import drill as drill_tasks
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks


def read_back_key(disk):
    """Store key of the image ``disk`` (a planned restore disk) is compared
    through: the restored image itself for the root disk of an
    image-backed server, a read-back image of each volume."""
    if disk['role'] == tags.ROLE_ROOT_IMAGE:
        return keys.restored_image_key(disk['disk'])
    return keys.read_back_key(disk['disk'])


def _read_back_volume(disk):
    name = disk['disk']
    return linear_flow.Flow('read-back-%s' % name).add(
        image_tasks.UploadVolumeToImage(
            name='upload-drill-volume-%s' % name,
            provides=read_back_key(disk),
            inject={'spec': {'role': tags.ROLE_DRILL_READ_BACK % name}},
            rebind={'volume_id': keys.restored_volume_key(name)}),
        image_tasks.WaitForImageActive(
            name='wait-drill-image-%s' % name,
            rebind={'image_id': read_back_key(disk)}))


def _clean_up(disks):
    clean = unordered_flow.Flow('clean-up')
    for disk in disks:
        name = disk['disk']
        if 'volume' in disk:
            clean.add(image_tasks.DeleteImage(
                name='delete-drill-image-%s' % name,
                rebind={'image_id': read_back_key(disk)}))
            clean.add(volume_tasks.DeleteVolume(
                name='delete-drill-volume-%s' % name,
                rebind={'volume_id': keys.restored_volume_key(name)}))
        else:
            clean.add(image_tasks.DeleteImage(
                name='delete-restored-image-%s' % name,
                rebind={'image_id': keys.restored_image_key(name)}))
    return clean


def get_flow(disks, server, verify=None):
    """Flow drilling a backup.

    :param disks: and ``server``: the restore flow's arguments (see
        :func:`backup_flows.flows.restore.get_flow`), planned for the
        throw-away server.
    :param verify: ``'quick'`` or ``'deep'`` to check the backup in the
        repository first (``backup verify --drill``), None not to.
    """
    flow = linear_flow.Flow(keys.FLOW_BACKUP_DRILL)
    if verify:
        flow.add(verify_flow.verify_task(verify == 'deep',
                                         provides=keys.VERIFICATION))
    flow.add(*restore_flow.restore_disks(disks))
    volumes = [disk for disk in disks if 'volume' in disk]
    if volumes:
        flow.add(unordered_flow.Flow('read-back-volumes').add(
            *[_read_back_volume(disk) for disk in volumes]))
    compare = unordered_flow.Flow('compare-disks')
    for disk in disks:
        compare.add(drill_tasks.CompareDiskWithBackup(
            name='compare-disk-%s' % disk['disk'],
            provides=keys.compared_key(disk['disk']),
            inject={'disk': {key: disk[key]
                             for key in ('disk', 'size', 'sha256')}},
            rebind={'image_id': read_back_key(disk)}))
    flow.add(compare)
    flow.add(drill_tasks.CheckDrillDisks(
        name='check-drill-disks', provides=keys.DRILL_DISKS,
        requires=[keys.compared_key(d['disk']) for d in disks],
        inject={'disk_order': [d['disk'] for d in disks]}))
    flow.add(*restore_flow.create_server(disks, server))
    flow.add(server_tasks.DeleteServer(
        name='delete-drill-server',
        requires=[keys.restored_volume_key(d['disk']) for d in volumes]))
    flow.add(_clean_up(disks))
    flow.add(drill_tasks.ReportDrill(name='report-drill'))
    return flow
