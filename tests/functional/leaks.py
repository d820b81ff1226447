"""What a job left in the cloud: every resource tagged with its id."""

from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets


def job_leaks(conn, job_id):
    """[(kind, id)] of the resources of job ``job_id`` still in the
    project of ``conn`` (other tests run beside: only the job's own
    count)."""
    found = []
    for image, props in sets.member_images(conn):
        if props.get(tags.JOB_ID) == job_id:
            found.append(('set image', image.id))
    for snap, meta in sets.member_snapshots(conn):
        if meta.get(tags.JOB_ID) == job_id:
            found.append(('set snapshot', snap.id))
    for image in conn.image.images():
        props = sets.image_properties(image)
        if (props.get(tags.JOB_ID) == job_id or
                (image.name or '').startswith('backup-flows-' + job_id)):
            found.append(('image', image.id))
    for volume in conn.block_storage.volumes():
        meta = volume.metadata or {}
        if meta.get(tags.JOB_ID) == job_id:
            found.append(('volume', volume.id))
    return found
