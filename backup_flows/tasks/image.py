"""Tasks acting on Glance images of servers."""

from oslo_log import log as logging

from backup_flows import clients
from backup_flows import keys
from backup_flows import snapshot_sets
from backup_flows import waits
from backup_flows.tasks import base

LOG = logging.getLogger(__name__)


def _root_images(conn, set_meta):
    return [image for image, props in snapshot_sets.member_images(
        conn, job_id=set_meta['job_id'])
        if props.get(snapshot_sets.ROLE) == snapshot_sets.ROLE_ROOT_IMAGE]


class CreateServerImage(base.BackupFlowsTask):
    """Ask Nova to capture the server's root disk as a Glance image.

    The image carries the set's metadata and the job id; when the task runs
    again after a crash it adopts the image it already asked for instead of
    creating a second one.

    Reversion strategy: delete every root image carrying this job's id.
    """

    default_provides = keys.ROOT_IMAGE_ID

    def execute(self, cloud, server_id, set_meta):
        conn = clients.connect(cloud)
        existing = _root_images(conn, set_meta)
        if existing:
            LOG.info('Adopting image %s created before a restart',
                     existing[0].id)
            return existing[0].id
        metadata = snapshot_sets.member_metadata(
            set_meta, snapshot_sets.ROLE_ROOT_IMAGE)
        image = conn.compute.create_server_image(
            server_id, set_meta['image_name'], metadata=metadata)
        LOG.info('Creating image %s of server %s', image.id, server_id)
        return image.id

    def revert(self, result, cloud, server_id, set_meta, **kwargs):
        conn = clients.connect(cloud)
        ids = {image.id for image in _root_images(conn, set_meta)}
        if isinstance(result, str):
            ids.add(result)
        for image_id in ids:
            LOG.info('Deleting image %s (revert)', image_id)
            snapshot_sets.delete_image_quietly(conn, image_id)


class WaitForImageActive(base.BackupFlowsTask):
    """Wait until the image is active (all its bytes are uploaded).

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, image_id):
        conn = clients.connect(cloud)
        waits.wait_for('Image', image_id,
                       lambda: conn.image.get_image(image_id), 'active',
                       failed=('killed', 'deleted', 'deactivated'))


class DeleteImage(base.BackupFlowsTask):
    """Delete an image and wait until it is gone.

    Reversion strategy: none possible (a deleted image cannot come back);
    the flow that runs it marks its set ``deleting`` first.
    """

    def execute(self, cloud, image_id):
        conn = clients.connect(cloud)
        conn.image.delete_image(image_id, ignore_missing=True)
        waits.wait_for_delete('Image', image_id,
                              lambda: conn.image.get_image(image_id))
