"""Restore flow: a backup in the repository → a new server in a cloud.

Shape::

    check-backup
    restore-disks (side by side, per disk <d>):
        root image:  create-image-<d> → upload-disk-<d> → wait-image-active-<d>
        volume (data or boot):
                     create-image-<d> → upload-disk-<d> → wait-image-active-<d>
                     → create-volume-<d> → wait-volume-available-<d>
                     → verify-volume-<d> → delete-image-<d> (the temporary
                     image)
    create-server → wait-server-active

Store (plain data): ``cloud`` (the target cloud), ``job_id``,
``backup_id``, ``repository_url``. Every image, volume and server the flow
creates carries the job id; a revert from any task deletes them all.

Every disk is checked as written before the server is created: the bytes
sent to Glance against the manifest's whole-disk SHA-256 as they are read,
Glance's hash of the image it stored against the bytes sent
(upload-disk-<d>), and a volume's bytes against the image it was written
from (verify-volume-<d>). A mismatch fails the flow, which deletes it all.
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import repository
from backup_flows import tags
from backup_flows.tasks import base
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)



class CheckBackup(base.BackupFlowsTask):
    """Read the backup's manifest and check it still is what was planned.

    Each planned disk must be in the manifest with the planned size and
    checksum, and every chunk it refers to must be in the repository's
    index, so that a pruned or half-deleted backup fails before anything
    is created. (Damaged chunk data is found while it is read.)

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, repository_url, backup_id, disks):
        with repository.open_repository(CONF, url=repository_url) as repo:
            manifest = repo.show_backup(backup_id)
            repo.load_index()
            stored = {disk['name']: disk for disk in manifest['disks']}
            for planned in disks:
                disk = stored.get(planned['disk'])
                if (disk is None or disk['size'] != planned['size'] or
                        disk['sha256'] != planned['sha256']):
                    raise exceptions.RepositoryCorrupted(
                        url=repository_url,
                        reason='disk %s of backup %s changed since the '
                               'restore was planned' % (planned['disk'],
                                                        backup_id))
                missing = len(repo.missing_chunks(disk))
                if missing:
                    raise exceptions.RepositoryCorrupted(
                        url=repository_url,
                        reason='%d chunks of disk %s of backup %s are '
                               'missing' % (missing, planned['disk'],
                                            backup_id))
        LOG.info('Backup %s: %d disks to restore', backup_id, len(disks))


def _restore_disk(disk):
    name = disk['disk']
    image = keys.restored_image_key(name)
    flow = linear_flow.Flow('restore-disk-%s' % name).add(
        image_tasks.CreateImage(
            name='create-image-%s' % name, provides=image,
            inject={'spec': disk['image']}),
        image_tasks.UploadDiskToImage(
            name='upload-disk-%s' % name, inject={'disk': disk},
            rebind={'image_id': image}),
        image_tasks.WaitForImageActive(
            name='wait-image-active-%s' % name, rebind={'image_id': image}))
    if disk['role'] == tags.ROLE_ROOT_IMAGE:
        return flow
    volume = keys.restored_volume_key(name)
    return flow.add(
        volume_tasks.CreateVolume(
            name='create-volume-%s' % name, provides=volume,
            inject={'spec': disk['volume']}, rebind={'image_id': image}),
        volume_tasks.WaitForVolumeAvailable(
            name='wait-volume-available-%s' % name,
            rebind={'volume_id': volume}),
        volume_tasks.VerifyVolumeBytes(
            name='verify-volume-%s' % name, inject={'disk': disk},
            rebind={'volume_id': volume, 'image_id': image}),
        image_tasks.DeleteImage(
            name='delete-image-%s' % name, rebind={'image_id': image}))


def restore_disks(disks):
    """The tasks putting the disks into the cloud, each checked as written:
    check-backup, then restore-disks (see :func:`get_flow`)."""
    restore = unordered_flow.Flow('restore-disks')
    for disk in disks:
        restore.add(_restore_disk(disk))
    return [CheckBackup(name='check-backup', inject={'disks': disks}),
            restore]


def create_server(disks, server):
    """The tasks creating the server from the restored disks:
    create-server, wait-server-active (see :func:`get_flow`)."""
    root = next(disk for disk in disks
                if disk['role'] in (tags.ROLE_ROOT_IMAGE,
                                    tags.ROLE_ROOT_VOLUME))
    image_root = root['role'] == tags.ROLE_ROOT_IMAGE
    spec = dict(server, root={
        'kind': 'image' if image_root else 'volume',
        'key': (keys.restored_image_key(root['disk']) if image_root
                else keys.restored_volume_key(root['disk']))},
        volumes=[{'key': keys.restored_volume_key(disk['disk'])}
                 for disk in disks if disk['role'] == tags.ROLE_VOLUME])
    requires = [spec['root']['key']] + [v['key'] for v in spec['volumes']]
    return [server_tasks.CreateServer(name='create-server',
                                      inject={'spec': spec},
                                      requires=requires),
            server_tasks.WaitForServerActive(name='wait-server-active')]


def get_flow(disks, server):
    """Flow restoring a backup onto a new server.

    :param disks: planned disks, root first: ``{'disk', 'role', 'size',
        'sha256', 'image': CreateImage spec, 'volume': CreateVolume spec
        (volumes only)}``; ``role`` is ``root-image``, ``root-volume`` or
        ``volume``.
    :param server: CreateServer spec without ``root`` and ``volumes``,
        which are derived from ``disks``.
    """
    flow = linear_flow.Flow(keys.FLOW_RESTORE)
    flow.add(*restore_disks(disks))
    flow.add(*create_server(disks, server))
    return flow
