"""Tasks recording the state of a snapshot set on its members."""

from concurrent import futures

from oslo_log import log as logging

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.tasks import base

LOG = logging.getLogger(__name__)


def _set_member_status(conn, images, snapshots, status):
    """Record ``status`` on every member, side by side (each member is its
    own request); the first error is raised once all were tried."""
    calls = ([(sets.set_image_properties, conn, image.id)
              for image, _ in images] +
             [(conn.block_storage.set_snapshot_metadata, snap)
              for snap, _ in snapshots])
    if not calls:
        return
    with futures.ThreadPoolExecutor(min(len(calls), 8)) as pool:
        done = [pool.submit(*call, **{tags.STATUS: status})
                for call in calls]
    for future in done:
        future.result()


class RecordSnapshotSet(base.BackupFlowsTask):
    """Mark every member of the new set available: the set's commit point.

    Until this task ran, ``snapshot list`` shows the set as ``creating``.
    Built with ``point_of_no_return=True`` by the snapshot-create flow: once
    it ran, ``job abort`` finishes that job instead of reverting it.

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
        _set_member_status(conn, images, snapshots, tags.STATUS_AVAILABLE)
        # the set as now recorded, from the members just listed and marked
        recorded = sets.SnapshotSet(set_meta['set_id'])
        for image, props in images:
            recorded.add_image(image, dict(props, **{
                tags.STATUS: tags.STATUS_AVAILABLE}))
        for snap, meta in snapshots:
            recorded.add_snapshot(snap, dict(meta, **{
                tags.STATUS: tags.STATUS_AVAILABLE}))
        return recorded.to_dict()


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
                           tags.STATUS_DELETING)

    def revert(self, result, cloud, set_id, **kwargs):
        conn = clients.connect(cloud)
        _set_member_status(conn, sets.member_images(conn, set_id=set_id),
                           sets.member_snapshots(conn, set_id=set_id),
                           tags.STATUS_AVAILABLE)



class RecordImageAsSetMember(base.BackupFlowsTask):
    """Make an image stand in for a volume snapshot of a set.

    The image (a copy of the snapshot's bytes) takes the snapshot's set
    metadata, so that the set counts it as the volume's member; the
    snapshot itself is deleted by a later task. Safe to run again.

    Reversion strategy: nothing of its own; the image now belongs to the
    set, which the caller keeps or deletes as a whole.
    """

    def execute(self, cloud, image_id, snapshot_id):
        conn = clients.connect(cloud)
        meta = dict(conn.block_storage.get_snapshot(snapshot_id).metadata
                    or {})
        if meta.get(tags.KIND) != tags.KIND_SNAPSHOT_SET:
            raise exceptions.BackupFlowsError(
                'Volume snapshot %s is not a member of a snapshot set.'
                % snapshot_id)
        LOG.info('Image %s stands in for snapshot %s in snapshot set %s',
                 image_id, snapshot_id, meta.get(tags.SET_ID))
        sets.set_image_properties(
            conn, image_id, **{key: value for key, value in meta.items()
                               if key.startswith(tags.PREFIX)})
