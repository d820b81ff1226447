"""Tasks recording the state of a snapshot set on its members."""

from oslo_log import log as logging

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import snapshot_sets as sets
from backup_flows.tasks import base
from backup_flows.tasks import volume as volume_tasks

LOG = logging.getLogger(__name__)


def _set_member_status(conn, images, snapshots, status):
    for image, _ in images:
        sets.set_image_properties(conn, image.id, **{sets.STATUS: status})
    for snap, _ in snapshots:
        conn.block_storage.set_snapshot_metadata(snap, **{sets.STATUS: status})


class RecordSnapshotSet(base.BackupFlowsTask):
    """Mark every member of the new set available: the set's commit point.

    Until this task ran, ``snapshot list`` shows the set as ``creating``.

    Reversion strategy: nothing of its own; the members are deleted by the
    tasks that created them.
    """

    default_provides = keys.RESULT

    def execute(self, cloud, set_meta):
        conn = clients.connect(cloud)
        images = sets.member_images(conn, job_id=set_meta['job_id'])
        snapshots = sets.member_snapshots(conn, job_id=set_meta['job_id'])
        found = len(images) + len(snapshots)
        if found != set_meta['members']:
            raise exceptions.BackupFlowsError(
                'Snapshot set %s has %d members, expected %d.'
                % (set_meta['set_id'], found, set_meta['members']))
        _set_member_status(conn, images, snapshots, sets.STATUS_AVAILABLE)
        return sets.get_set(conn, set_meta['set_id']).to_dict()


class MarkSnapshotSetDeleting(base.BackupFlowsTask):
    """Mark every member of a set ``deleting`` before any is deleted.

    A set whose deletion is interrupted is then shown as ``deleting`` (and
    ``snapshot delete`` can be run again) rather than looking usable.

    Reversion strategy: mark the remaining members ``available`` again.
    """

    def execute(self, cloud, set_id):
        conn = clients.connect(cloud)
        _set_member_status(conn, sets.member_images(conn, set_id=set_id),
                           sets.member_snapshots(conn, set_id=set_id),
                           sets.STATUS_DELETING)

    def revert(self, result, cloud, set_id, **kwargs):
        conn = clients.connect(cloud)
        _set_member_status(conn, sets.member_images(conn, set_id=set_id),
                           sets.member_snapshots(conn, set_id=set_id),
                           sets.STATUS_AVAILABLE)


class DeleteSnapshotSet(base.BackupFlowsTask):
    """Delete every member of a (transient) snapshot set.

    Used by flows that take a set only as a consistent source (backup).

    Reversion strategy: none possible; the members of the set are deleted
    again by the reverts of the tasks that created them.
    """

    def execute(self, cloud, set_meta):
        conn = clients.connect(cloud)
        set_id = set_meta['set_id']
        images = sets.member_images(conn, set_id=set_id)
        snapshots = sets.member_snapshots(conn, set_id=set_id)
        _set_member_status(conn, images, snapshots, sets.STATUS_DELETING)
        for image, _ in images:
            LOG.info('Deleting image %s of transient set %s', image.id,
                     set_id)
            sets.delete_image_quietly(conn, image.id)
        for snap, _ in snapshots:
            LOG.info('Deleting snapshot %s of transient set %s', snap.id,
                     set_id)
            volume_tasks.delete_snapshot(conn, snap.id)
