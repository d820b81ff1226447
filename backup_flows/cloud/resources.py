"""The resources jobs create in the cloud: find them by job, delete them.

Every image, volume, snapshot and server a flow creates carries its job id
(backup_flows.tags): a resumed task adopts what it already created, a
revert deletes it, ``job cleanup`` finds what a failed revert left. Tasks
and operations both use these helpers.
"""

import re

from openstack import exceptions as sdk_exc

from backup_flows import exceptions
from backup_flows import tags
from backup_flows.cloud import snapshot_sets
from backup_flows.cloud import waits

_NAMED = re.compile(tags.JOB_IMAGE_NAME_PATTERN)

# Volume statuses that end once Nova let go of a volume of a deleted server.
_VOLUME_RELEASED = ('available', 'error')
# Volume statuses a delete must wait out.
_VOLUME_BUSY = ('creating', 'downloading', 'uploading', 'attaching',
                'detaching')


def images_of_job(conn, job_id, role):
    """Images created by job ``job_id`` for ``role`` (tagged or named)."""
    name = tags.job_image_name(job_id, role)
    found = []
    for image in conn.image.images():
        props = snapshot_sets.image_properties(image)
        if image.name == name or (props.get(tags.JOB_ID) == job_id and
                                  props.get(tags.ROLE) == role):
            found.append(image)
    return found


def volumes_of_job(conn, job_id, role):
    """Volumes created by job ``job_id`` for ``role``."""
    return [vol for vol in conn.block_storage.volumes()
            if (vol.metadata or {}).get(tags.JOB_ID) == job_id and
            (vol.metadata or {}).get(tags.ROLE) == role]


def servers_of_job(conn, job_id, name):
    """Servers named ``name`` created by job ``job_id``."""
    # Nova filters names by regular expression; compare exactly here.
    return [srv for srv in conn.compute.servers(details=True,
                                                name=re.escape(name))
            if srv.name == name and
            (srv.metadata or {}).get(tags.JOB_ID) == job_id]


def image_job_id(image):
    """The job id an image carries (property, or the name Cinder's upload
    got), else ``None``."""
    match = _NAMED.match(image.name or '')
    return (snapshot_sets.image_properties(image).get(tags.JOB_ID) or
            (match.group(1) if match else None))


def tagged(conn):
    """Every resource of the project carrying a job id, as plain dicts
    ``{'kind', 'id', 'name', 'job_id', ...}``."""
    found = []
    for srv in conn.compute.servers(details=True):
        job = (srv.metadata or {}).get(tags.JOB_ID)
        if job:
            found.append({'kind': 'server', 'id': srv.id, 'name': srv.name,
                          'job_id': job,
                          'image_id': (srv.image or {}).get('id'),
                          'volume_ids': [a['id'] for a in
                                         srv.attached_volumes or []]})
    for vol in conn.block_storage.volumes():
        job = (vol.metadata or {}).get(tags.JOB_ID)
        if job:
            found.append({'kind': 'volume', 'id': vol.id, 'name': vol.name,
                          'job_id': job})
    for snap in conn.block_storage.snapshots(details=True):
        meta = snap.metadata or {}
        if meta.get(tags.JOB_ID):
            found.append({'kind': 'snapshot', 'id': snap.id,
                          'name': snap.name, 'job_id': meta[tags.JOB_ID],
                          'set_member':
                          meta.get(tags.KIND) == tags.KIND_SNAPSHOT_SET})
    for image in conn.image.images():
        job = image_job_id(image)
        if job:
            found.append({'kind': 'image', 'id': image.id,
                          'name': image.name, 'job_id': job, 'set_member':
                          snapshot_sets.image_properties(image).get(
                              tags.KIND) == tags.KIND_SNAPSHOT_SET})
    return found


def delete_server(conn, server_id):
    """Delete a server and wait until it is gone."""
    conn.compute.delete_server(server_id, ignore_missing=True)
    waits.wait_for_delete('Server', server_id,
                          lambda: conn.compute.get_server(server_id))


def wait_volume_released(conn, volume_id):
    """Wait until Nova let go of a volume of a deleted server (if it still
    exists)."""
    try:
        waits.wait_for('Volume', volume_id,
                       lambda: conn.block_storage.get_volume(volume_id),
                       lambda vol: vol.status in _VOLUME_RELEASED)
    except exceptions.NotFound:
        pass


def delete_volume(conn, volume_id):
    """Delete a volume once it is settled and wait until it is gone."""
    try:
        volume = conn.block_storage.get_volume(volume_id)
    except sdk_exc.NotFoundException:
        return
    if volume.status in _VOLUME_BUSY:
        waits.wait_for('Volume', volume_id,
                       lambda: conn.block_storage.get_volume(volume_id),
                       lambda v: v.status in ('available', 'error',
                                              'in-use'))
    conn.block_storage.delete_volume(volume_id, ignore_missing=True,
                                     force=False)
    waits.wait_for_delete('Volume', volume_id,
                          lambda: conn.block_storage.get_volume(volume_id))


def delete_snapshot(conn, snapshot_id):
    """Delete a snapshot once it is settled and wait until it is gone."""
    try:
        snap = conn.block_storage.get_snapshot(snapshot_id)
    except sdk_exc.NotFoundException:
        return
    if snap.status == 'creating':
        waits.wait_for('Volume snapshot', snapshot_id,
                       lambda: conn.block_storage.get_snapshot(snapshot_id),
                       lambda s: s.status != 'creating')
    conn.block_storage.delete_snapshot(snapshot_id, ignore_missing=True)
    waits.wait_for_delete(
        'Volume snapshot', snapshot_id,
        lambda: conn.block_storage.get_snapshot(snapshot_id))


def delete_image(conn, image_id):
    """Delete an image and wait until it is gone."""
    conn.image.delete_image(image_id, ignore_missing=True)
    waits.wait_for_delete('Image', image_id,
                          lambda: conn.image.get_image(image_id))


def delete(conn, kind, ident):
    """Delete one resource of ``kind`` (as in :func:`tagged`) and wait."""
    {'server': delete_server, 'volume': delete_volume,
     'snapshot': delete_snapshot, 'image': delete_image}[kind](conn, ident)
