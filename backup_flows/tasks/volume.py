"""Tasks acting on Cinder volumes and volume snapshots."""

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import tags
from backup_flows.cloud import resources
from backup_flows.cloud import servers
from backup_flows.cloud import snapshot_sets
from backup_flows.cloud import waits
from backup_flows.tasks import base
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import image_hash

LOG = logging.getLogger(__name__)

_SNAPSHOT_FAILED = ('error', 'error_deleting')


def wait_for_snapshot(conn, snapshot_id, status='available'):
    return waits.wait_for(
        'Volume snapshot', snapshot_id,
        lambda: conn.block_storage.get_snapshot(snapshot_id), status,
        failed=_SNAPSHOT_FAILED)


class CreateVolumeSnapshot(base.BackupFlowsTask):
    """Ask Cinder for a snapshot of one volume (in use or not).

    ``volume`` (injected) is ``{'volume_id', 'device', 'role'}``. The snapshot
    carries the set's metadata and the job id; run again after a crash, the
    task adopts the snapshot it already asked for.

    Reversion strategy: delete every snapshot of this volume carrying this
    job's id, waiting for it to leave ``creating`` first.
    """

    def _mine(self, conn, set_meta, volume):
        return [snap for snap, _ in snapshot_sets.member_snapshots(
            conn, job_id=set_meta['job_id'], volume_id=volume['volume_id'])]

    def execute(self, cloud, set_meta, volume):
        conn = clients.connect(cloud)
        adopted = base.adopt('snapshot', self._mine(conn, set_meta, volume))
        if adopted:
            return adopted
        metadata = snapshot_sets.member_metadata(
            set_meta, volume['role'], volume_id=volume['volume_id'],
            device=volume.get('device'))
        snap = conn.block_storage.create_snapshot(
            volume_id=volume['volume_id'],
            name='%s-%s' % (set_meta['image_name'], volume['volume_id'][:8]),
            metadata=metadata, force=True)
        LOG.info('Creating snapshot %s of volume %s', snap.id,
                 volume['volume_id'])
        return snap.id

    def revert(self, result, cloud, set_meta, volume, **kwargs):
        conn = clients.connect(cloud)
        base.delete_found(
            'volume snapshot', self._mine(conn, set_meta, volume), result,
            lambda snapshot_id: resources.delete_snapshot(conn, snapshot_id))


class WaitForVolumeSnapshotAvailable(base.BackupFlowsTask):
    """Wait until the snapshot is available (its point in time is taken).

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, snapshot_id):
        wait_for_snapshot(clients.connect(cloud), snapshot_id)


class DeleteVolumeSnapshot(base.BackupFlowsTask):
    """Delete a volume snapshot and wait until it is gone.

    Reversion strategy: none possible; the flow that runs it marks its set
    ``deleting`` first.
    """

    def execute(self, cloud, snapshot_id):
        resources.delete_snapshot(clients.connect(cloud), snapshot_id)


def wait_for_volume(conn, volume_id, status):
    return waits.wait_for(
        'Volume', volume_id,
        lambda: conn.block_storage.get_volume(volume_id), status,
        failed=('error', 'error_restoring', 'error_extending'))


def _attached_to(conn, volume_id, server_id):
    volume = conn.block_storage.get_volume(volume_id)
    return any(att.get('server_id') == server_id
               for att in volume.attachments or [])


class DetachVolume(base.BackupFlowsTask):
    """Detach a volume from the server and wait until it is available.

    ``volume`` (injected) is ``{'volume_id', 'device', ...}``.

    Reversion strategy: attach it again at the same device when it is no
    longer attached.
    """

    def execute(self, cloud, server_id, volume):
        conn = clients.connect(cloud)
        vid = volume['volume_id']
        if _attached_to(conn, vid, server_id):
            LOG.info('Detaching volume %s from server %s', vid, server_id)
            conn.compute.delete_volume_attachment(server_id, vid)
        wait_for_volume(conn, vid, 'available')

    def revert(self, result, cloud, server_id, volume, **kwargs):
        attach_volume(clients.connect(cloud), server_id, volume)


def attach_volume(conn, server_id, volume):
    """Attach ``volume`` at its device unless it is attached already."""
    vid = volume['volume_id']
    current = conn.block_storage.get_volume(vid)
    if current.status == 'detaching':
        wait_for_volume(conn, vid, 'available')
    if not _attached_to(conn, vid, server_id):
        LOG.info('Attaching volume %s to server %s', vid, server_id)
        conn.compute.create_volume_attachment(
            server_id, volume=vid, device=volume.get('device'))
    wait_for_volume(conn, vid, 'in-use')


class RevertVolumeToSnapshot(base.BackupFlowsTask):
    """Return a detached volume to the bytes of its latest snapshot.

    ``volume`` (injected) is ``{'volume_id', 'snapshot_id', ...}``.

    Reversion strategy: none possible: the bytes written since the snapshot
    are gone. The rollback flow checks everything it can before this task.
    """

    def execute(self, cloud, volume):
        conn = clients.connect(cloud)
        vid = volume['volume_id']
        LOG.info('Reverting volume %s to snapshot %s', vid,
                 volume['snapshot_id'])
        conn.block_storage.revert_volume_to_snapshot(vid,
                                                     volume['snapshot_id'])
        wait_for_volume(conn, vid, 'available')


class ReimageVolume(base.BackupFlowsTask):
    """Overwrite a detached volume with an image's bytes, in place.

    ``volume`` (injected) is ``{'volume_id', 'image_id', 'bootable',
    'image_metadata'}``: the last two as they were before, put back after
    Cinder's re-image replaced them with the image's (the set's keys among
    them: later uploads of the volume would look like members of the set).
    The volume keeps its id, type and snapshots.

    Reversion strategy: none possible: the bytes written since the image
    are gone. The rollback flow checks everything it can before this task.
    """

    def execute(self, cloud, volume):
        conn = clients.connect(cloud)
        vid = volume['volume_id']
        if conn.block_storage.get_volume(vid).status != 'downloading':
            LOG.info('Re-imaging volume %s from image %s', vid,
                     volume['image_id'])
            response = conn.block_storage.post(
                '/volumes/%s/action' % vid,
                json={'os-reimage': {'image_id': volume['image_id'],
                                     'reimage_reserved': False}},
                microversion=servers.REIMAGE_MICROVERSION)
            sdk_exc.raise_from_response(response)
        current = wait_for_volume(conn, vid, 'available')
        before = volume.get('image_metadata') or {}
        stale = sorted(set(current.volume_image_metadata or {}) - set(before))
        if stale:
            conn.block_storage.delete_volume_image_metadata(vid, keys=stale)
        if before:
            conn.block_storage.set_volume_image_metadata(vid, **before)
        if bool(current.is_bootable) != bool(volume.get('bootable')):
            conn.block_storage.set_volume_bootable_status(
                vid, bool(volume.get('bootable')))


class AttachVolume(base.BackupFlowsTask):
    """Attach a volume to the server at its device, wait until in use.

    Reversion strategy: nothing; the volume attached is the server's state
    before the flow.
    """

    def execute(self, cloud, server_id, volume):
        attach_volume(clients.connect(cloud), server_id, volume)


# -- temporary and restored volumes ---------------------------------------
#
# A volume a flow creates carries the job id and a role in its metadata
# (tags.JOB_ID, tags.ROLE): a resumed task adopts it instead of creating a
# second one, and a leak check finds it (backup_flows.cloud.resources).


class CreateVolume(base.BackupFlowsTask):
    """Create a volume (from a snapshot, an image, or empty).

    ``spec`` (injected) is ``{'role', 'name', 'size_gb', 'snapshot_id'?,
    'image_id'?, 'volume_type'?, 'availability_zone'?, 'description'?}``;
    the job id comes from the store. Run again after a crash, the task
    adopts the volume it already asked for.

    Reversion strategy: delete every volume of this job and role.
    """

    def execute(self, cloud, job_id, spec, snapshot_id=None, image_id=None):
        conn = clients.connect(cloud)
        # Ids known only at run time come from the store (rebound).
        spec = dict(spec, snapshot_id=snapshot_id or spec.get('snapshot_id'),
                    image_id=image_id or spec.get('image_id'))
        adopted = base.adopt(
            'volume', resources.volumes_of_job(conn, job_id, spec['role']))
        if adopted:
            return adopted
        attrs = {'name': spec['name'], 'size': spec['size_gb'],
                 'metadata': {tags.JOB_ID: job_id, tags.ROLE: spec['role']}}
        for key, attr in (('snapshot_id', 'snapshot_id'),
                          ('image_id', 'image_id'),
                          ('volume_type', 'volume_type'),
                          ('availability_zone', 'availability_zone'),
                          ('description', 'description')):
            if spec.get(key):
                attrs[attr] = spec[key]
        volume = conn.block_storage.create_volume(**attrs)
        LOG.info('Creating volume %s (%s)', volume.id, spec['role'])
        return volume.id

    def revert(self, result, cloud, job_id, spec, **kwargs):
        conn = clients.connect(cloud)
        base.delete_found(
            'volume', resources.volumes_of_job(conn, job_id, spec['role']),
            result, lambda volume_id: resources.delete_volume(conn,
                                                              volume_id))


class WaitForVolumeAvailable(base.BackupFlowsTask):
    """Wait until a volume is available.

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, volume_id):
        wait_for_volume(clients.connect(cloud), volume_id, 'available')


class DeleteVolume(base.BackupFlowsTask):
    """Delete a (temporary) volume and wait until it is gone.

    Reversion strategy: none possible; it runs once the volume served.
    """

    def execute(self, cloud, volume_id):
        resources.delete_volume(clients.connect(cloud), volume_id)


class VerifyVolumeBytes(base.BackupFlowsTask):
    """Check that a restored volume holds the backed-up disk.

    Cinder checks the restore image's hash as it downloads it, not what it
    writes, so the volume is read back the one way a cloud offers without
    attaching it: Cinder uploads it into a temporary image (named after the
    job and ``verify-volume-<disk>``) whose hash Glance computes as it
    stores it. It must be the hash of the disk followed by zeros up to the
    volume's size: the restore image's (checked against the bytes sent)
    when the sizes are equal, else computed from the repository. The bytes
    stay in the cloud; the temporary image is deleted and the volume is
    available again when the task ends. Run again after a crash, it adopts
    the temporary image. ``disk`` (injected): ``{'disk', 'size', ...}``.

    Reversion strategy: delete the temporary image if a run left it.
    """

    def execute(self, cloud, job_id, repository_url, backup_id, disk,
                volume_id, image_id):
        conn = clients.connect(cloud)
        name = tags.job_image_name(job_id, _check_role(disk))
        found = [i.id for i in conn.image.images() if i.name == name]
        copy_id = found[0] if found else None
        if not found:
            copy_id = conn.block_storage.upload_volume_to_image(
                volume_id, name, force=False, disk_format='raw',
                container_format='bare')['image_id']
            LOG.info('Reading volume %s back through image %s', volume_id,
                     copy_id)
        try:
            copy = waits.wait_for(
                'Image', copy_id, lambda: conn.image.get_image(copy_id),
                'active', failed=('killed', 'deleted', 'deactivated'))
            _compare_volume(conn, repository_url, backup_id, disk,
                            volume_id, copy, image_id)
        finally:
            _delete_copies(conn, [copy_id] + found[1:])
            wait_for_volume(conn, volume_id, 'available')

    def revert(self, result, cloud, job_id, disk, **kwargs):
        conn = clients.connect(cloud)
        name = tags.job_image_name(job_id, _check_role(disk))
        _delete_copies(conn, [image.id for image in conn.image.images()
                              if image.name == name])


def _check_role(disk):
    return tags.ROLE_VERIFY_VOLUME % disk['disk']


def _delete_copies(conn, image_ids):
    base.delete_each('image', image_ids,
                     lambda image_id: resources.delete_image(conn, image_id))


def _compare_volume(conn, repository_url, backup_id, disk, volume_id, copy,
                    image_id):
    what = 'Volume %s of disk %s' % (volume_id, disk['disk'])
    if copy.size is not None and copy.size < disk['size']:
        raise exceptions.BackupFlowsError(
            '%s holds %d bytes; the disk has %d.' % (what, copy.size,
                                                     disk['size']))
    algorithm = image_hash.algorithm_of(copy, what)
    if algorithm is None:
        return
    restored = conn.image.get_image(image_id)
    expected = image_tasks.expected_hash(
        repository_url, backup_id, disk, algorithm, copy.size,
        known=(restored.hash_algo, restored.hash_value))
    if copy.hash_value != expected:
        raise image_hash.mismatch(
            what, algorithm, copy.hash_value, expected,
            'Cinder wrote other bytes than the restore image holds')
    LOG.info('%s holds the backed-up bytes (%s checked)', what, algorithm)
