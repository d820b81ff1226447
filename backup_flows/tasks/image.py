"""Tasks acting on Glance images of servers."""

import time

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import progress
from backup_flows import repository
from backup_flows import tags
from backup_flows.cloud import resources
from backup_flows.cloud import snapshot_sets
from backup_flows.cloud import waits
from backup_flows.tasks import base
from backup_flows.tasks import image_hash
from backup_flows.tasks import server as server_tasks

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)


def _delete_images(conn, images, result):
    """Revert helper: delete ``images`` and the image id ``result`` (what
    execute returned, if it got that far)."""
    base.delete_found('image', images, result,
                      lambda image_id: conn.image.delete_image(
                          image_id, ignore_missing=True))


def _root_images(conn, set_meta):
    return [image for image, props in snapshot_sets.member_images(
        conn, job_id=set_meta['job_id'])
        if props.get(tags.ROLE) == tags.ROLE_ROOT_IMAGE]


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
        adopted = base.adopt('image', _root_images(conn, set_meta))
        if adopted:
            return adopted
        metadata = snapshot_sets.member_metadata(
            set_meta, tags.ROLE_ROOT_IMAGE)
        image = conn.compute.create_server_image(
            server_id, set_meta['image_name'], metadata=metadata)
        LOG.info('Creating image %s of server %s', image.id, server_id)
        return image.id

    def revert(self, result, cloud, server_id, set_meta, **kwargs):
        conn = clients.connect(cloud)
        _delete_images(conn, _root_images(conn, set_meta), result)


# Seconds between two reads of the server while the root image uploads: a
# Nova GET of a server costs its API about 0.1 s of CPU (on a small host,
# taken from the snapshot itself), a Glance GET of the image a tenth of it.
SERVER_CHECK_INTERVAL = 5.0
_IMAGE_FAILED = ('killed', 'deleted', 'deactivated')


class WaitForRootCaptured(base.BackupFlowsTask):
    """Wait until Nova finished the createImage of the root disk (its image
    active, the server without a task); fail clearly when Nova failed it
    (it then deletes the image: e.g. a guest agent that did not freeze the
    filesystems of an image requiring it).

    Polls the image in Glance, and the server only every
    ``SERVER_CHECK_INTERVAL`` seconds: a server whose task ended while its
    image is not active means Nova gave up. Nova refuses to unpause a
    server while it still uploads the image (its API wants no task), so a
    paused server waits until here.

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, server_id, image_id):
        conn = clients.connect(cloud)
        failed = exceptions.RootCaptureFailed(server=server_id,
                                              image=image_id)
        checked = [time.monotonic()]

        def current_image():
            try:
                image = conn.image.get_image(image_id)
            except sdk_exc.NotFoundException:
                raise failed
            if image.status in _IMAGE_FAILED:
                raise failed
            return image

        def fetch():
            image = current_image()
            if (image.status != 'active' and
                    time.monotonic() - checked[0] >= SERVER_CHECK_INTERVAL):
                checked[0] = time.monotonic()
                if not server_tasks.get_server(conn, server_id).task_state:
                    # read again: it may have turned active meanwhile
                    image = current_image()
                    if image.status != 'active':
                        raise failed
            return image

        waits.wait_for('Image', image_id, fetch, 'active')
        server_tasks.wait_for_server_idle(conn, server_id)


class WaitForImageActive(base.BackupFlowsTask):
    """Wait until the image is active (all its bytes are uploaded).

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, image_id):
        conn = clients.connect(cloud)
        waits.wait_for('Image', image_id,
                       lambda: conn.image.get_image(image_id), 'active',
                       failed=('killed', 'deleted', 'deactivated'))
        return image_id


class DeleteImage(base.BackupFlowsTask):
    """Delete an image and wait until it is gone.

    Reversion strategy: none possible (a deleted image cannot come back);
    the flow that runs it marks its set ``deleting`` first.
    """

    def execute(self, cloud, image_id):
        resources.delete_image(clients.connect(cloud), image_id)


# -- temporary and restored images ------------------------------------------
#
# An image a flow creates carries the job id and a role in its properties
# (tags.JOB_ID, tags.ROLE), or, when Cinder creates it, in its name
# (tags.job_image_name): a resumed task adopts it instead of creating a
# second one, and a leak check finds it (backup_flows.cloud.resources).


def _delete_images_of_job(conn, job_id, role, result):
    _delete_images(conn, resources.images_of_job(conn, job_id, role), result)


class UploadVolumeToImage(base.BackupFlowsTask):
    """Ask Cinder to copy a (temporary, detached) volume into a new image.

    ``spec`` (injected) is ``{'role', 'set_id'?}``. The image is named
    after the job id and role (:func:`backup_flows.tags.job_image_name`),
    so that a resumed run adopts it and a revert finds it; tagging it
    afterwards would race Cinder's upload. ``set_id``: the snapshot set a
    later task records the image in; from then on the image belongs to
    that set.

    Reversion strategy: delete every image of this job and role, except
    one recorded in the set ``set_id``.
    """

    def execute(self, cloud, job_id, spec, volume_id):
        conn = clients.connect(cloud)
        adopted = base.adopt(
            'image', resources.images_of_job(conn, job_id, spec['role']))
        if adopted:
            return adopted
        response = conn.block_storage.upload_volume_to_image(
            volume_id, tags.job_image_name(job_id, spec['role']), force=False,
            disk_format='raw', container_format='bare')
        image_id = response['image_id']
        LOG.info('Uploading volume %s to image %s', volume_id, image_id)
        return image_id

    def revert(self, result, cloud, job_id, spec, **kwargs):
        conn = clients.connect(cloud)
        images = resources.images_of_job(conn, job_id, spec['role'])
        if spec.get('set_id'):
            adopted = {image.id for image in images
                       if snapshot_sets.image_properties(image).get(
                           tags.SET_ID) == spec['set_id']}
            if adopted:
                LOG.info('Keeping image %s: it belongs to snapshot set %s',
                         ', '.join(sorted(adopted)), spec['set_id'])
            images = [image for image in images if image.id not in adopted]
            if isinstance(result, str) and result in adopted:
                result = None
        _delete_images(conn, images, result)


class CreateImage(base.BackupFlowsTask):
    """Create an empty (queued) raw image to upload a restored disk into.

    ``spec`` (injected) is ``{'role', 'name', 'properties'?,
    'min_disk'?}``. Run again after a crash, the task adopts the image it
    already created.

    Reversion strategy: delete every image of this job and role.
    """

    def execute(self, cloud, job_id, spec):
        conn = clients.connect(cloud)
        adopted = base.adopt(
            'image', resources.images_of_job(conn, job_id, spec['role']))
        if adopted:
            return adopted
        props = dict(spec.get('properties') or {})
        props.update({tags.JOB_ID: job_id, tags.ROLE: spec['role']})
        image = conn.image.create_image(
            name=spec['name'], disk_format='raw', container_format='bare',
            visibility='private', min_disk=spec.get('min_disk', 0),
            **props)
        LOG.info('Created image %s (%s)', image.id, spec['role'])
        return image.id

    def revert(self, result, cloud, job_id, spec, **kwargs):
        _delete_images_of_job(clients.connect(cloud), job_id,
                              spec['role'], result)


class _DiskBody:
    """Iterable request body over a disk read from the repository.

    It counts the bytes handed to the HTTP client and keeps the error that
    stopped the read: the HTTP stack may wrap or hide an exception raised
    by the body it sends.
    """

    def __init__(self, chunks, on_sent=None, digest=None):
        self._chunks = chunks
        self._on_sent = on_sent
        self._digest = digest
        self.sent = 0
        self.error = None

    def __iter__(self):
        try:
            for chunk in self._chunks:
                self.sent += len(chunk)
                if self._on_sent:
                    self._on_sent(len(chunk))
                if self._digest:
                    self._digest.update(chunk)
                yield chunk
        except Exception as exc:
            self.error = exc
            raise


class UploadDiskToImage(base.BackupFlowsTask):
    """Stream one disk of a backup from the repository into a queued image.

    ``disk`` (injected) is ``{'disk', 'size', ...}``: the disk's name in
    the manifest and its size in bytes. The bytes go to Glance as one
    chunked ``PUT /v2/images/{id}/file`` straight from the repository's
    reader, a few chunks at a time: the disk is never held in memory. Every
    chunk is verified before it is sent and the whole-disk SHA-256 before
    the body ends, so a damaged backup fails the upload (Glance discards a
    body that does not end) and the task. Then what Glance stored must be
    what was sent: its size, and the hash Glance computed while storing it
    (``os_hash_value``) that of the bytes sent (see
    :func:`check_image_bytes`). Run again after a crash, it accepts an
    image already active with the disk's size and hash.

    Reversion strategy: nothing of its own: the image belongs to the
    CreateImage task before it, whose revert deletes it.
    """

    def execute(self, cloud, repository_url, backup_id, disk, image_id):
        conn = clients.connect(cloud)
        image = conn.image.get_image(image_id)
        if image.status == 'active' and image.size == disk['size']:
            check_image_bytes(repository_url, backup_id, disk, image)
            LOG.info('Image %s already holds disk %s', image_id,
                     disk['disk'])
            return
        if image.status != 'queued':
            raise exceptions.ResourceFailed(kind='Image', ident=image_id,
                                            status=image.status)
        LOG.info('Uploading disk %s of backup %s (%d bytes) to image %s',
                 disk['disk'], backup_id, disk['size'], image_id)
        with repository.open_repository(CONF, url=repository_url) as repo:
            chunks = repo.read_disk(backup_id, disk['disk'])
            meter = progress.ProgressMeter(self.update_progress,
                                           total=disk['size'],
                                           disk=disk['disk'])
            digest = image_hash.StreamHash(image_hash.GLANCE_DEFAULT)
            body = _DiskBody(chunks, meter.add, digest)
            try:
                # No connect retries: a retry would send what is left of a
                # body already partly consumed.
                response = conn.image.put(
                    '/images/%s/file' % image_id, data=iter(body),
                    headers={'Content-Type': 'application/octet-stream',
                             'X-OpenStack-Image-Size': str(disk['size'])},
                    connect_retries=0)
            except Exception:
                if body.error is not None:
                    raise body.error from None
                raise
            finally:
                # Releases the repository lock of an unfinished read.
                chunks.close()
                sent_hash = digest.hexdigest() if body.error is None else None
                digest.close()
        if body.error is not None:
            raise body.error
        sdk_exc.raise_from_response(response)
        uploaded = conn.image.get_image(image_id)
        if body.sent != disk['size'] or uploaded.size != disk['size']:
            raise exceptions.BackupFlowsError(
                'Image %s of disk %s holds %s bytes (%d sent); the disk has '
                '%d.' % (image_id, disk['disk'], uploaded.size, body.sent,
                         disk['size']))
        check_image_bytes(repository_url, backup_id, disk, uploaded,
                          known=(image_hash.GLANCE_DEFAULT, sent_hash))
        meter.finish()


def expected_hash(repository_url, backup_id, disk, algorithm, size,
                  known=None):
    """Hex ``algorithm`` hash of ``disk`` of the backup followed by zeros up
    to ``size`` bytes: ``known`` ``(algorithm, hex)``, a hash of the
    disk's bytes computed already, when it fits; else computed from the
    repository (read again, verified)."""
    if known and known[0] == algorithm and known[1] and size == disk['size']:
        return known[1]
    LOG.info('Reading disk %s of backup %s again to compute its %s',
             disk['disk'], backup_id, algorithm)
    with repository.open_repository(CONF, url=repository_url) as repo:
        return image_hash.repository_digest(repo, backup_id, disk['disk'],
                                            algorithm, size)


def check_image_bytes(repository_url, backup_id, disk, image, known=None):
    """Check that ``image`` (active, of the disk's size) holds ``disk`` of
    the backup: Glance's hash of what it stored must be the disk's.

    The bytes sent were checked against the manifest's whole-disk SHA-256
    as they were read, and ``known`` is their hash (see
    :func:`expected_hash`), so a matching image holds the backed-up disk.
    """
    what = 'Image %s of disk %s' % (image.id, disk['disk'])
    algorithm = image_hash.algorithm_of(image, what)
    if algorithm is None:
        return
    expected = expected_hash(repository_url, backup_id, disk, algorithm,
                             image.size, known)
    if image.hash_value != expected:
        raise image_hash.mismatch(
            what, algorithm, image.hash_value, expected,
            'Glance stored other bytes than the backup\'s')
