"""Keys and values the code records on cloud resources.

Image properties, volume, snapshot and server metadata: every resource a
flow creates carries its job id (a resumed task adopts it, a revert or
``job cleanup`` finds it), and every member of a snapshot set carries the
set (backup_flows.cloud.snapshot_sets). They are persisted on the cloud
and read back by later releases, so never rename one; add a new one.
"""

# Prefix of every key below; keys with it are never copied onto a
# restored server.
PREFIX = 'backup_flows_'

# The job that created the resource.
JOB_ID = 'backup_flows_job_id'
# What the resource is for within its job (one of the roles below).
ROLE = 'backup_flows_role'

# Snapshot set members.
KIND = 'backup_flows_kind'
SET_ID = 'backup_flows_set_id'
NAME = 'backup_flows_name'
SERVER_ID = 'backup_flows_server_id'
VOLUME_ID = 'backup_flows_volume_id'
DEVICE = 'backup_flows_device'
CONSISTENCY = 'backup_flows_consistency'
REQUESTED = 'backup_flows_requested_consistency'
CREATED_AT = 'backup_flows_created_at'
EXPIRES_AT = 'backup_flows_expires_at'
MEMBERS = 'backup_flows_members'
STATUS = 'backup_flows_status'

# Restored servers and images: the backup (and disk) they come from.
BACKUP_ID = 'backup_flows_backup_id'
DISK = 'backup_flows_disk'

# Values of KIND.
KIND_SNAPSHOT_SET = 'snapshot-set'

# Values of STATUS on a snapshot set member.
STATUS_CREATING = 'creating'
STATUS_AVAILABLE = 'available'
STATUS_DELETING = 'deleting'

# Values of ROLE: a server's disks (also the roles in a server definition).
ROLE_ROOT_IMAGE = 'root-image'
ROLE_ROOT_VOLUME = 'root-volume'
ROLE_VOLUME = 'volume'

# Values of ROLE of temporary and restored resources, per disk name (or,
# for a rollback's safety copies, per volume id).
ROLE_EXPORT_VOLUME = 'export-volume-%s'
ROLE_EXPORT_IMAGE = 'export-image-%s'
ROLE_RESTORE_IMAGE = 'restore-image-%s'
ROLE_RESTORE_VOLUME = 'restore-volume-%s'
ROLE_VERIFY_VOLUME = 'verify-volume-%s'
ROLE_DRILL_READ_BACK = 'drill-read-back-%s'
ROLE_SAFETY_VOLUME = 'safety-volume-%s'
ROLE_SAFETY_IMAGE = 'safety-image-%s'

# Names. Images Cinder creates cannot be tagged at creation: their name
# (job id, role) identifies them.
JOB_IMAGE_NAME = 'backup-flows-%(job_id)s-%(role)s'
JOB_IMAGE_NAME_PATTERN = r'^backup-flows-([0-9a-f-]{36})-'
# A drill's throw-away server (its volumes and images start so), per
# backup id.
DRILL_SERVER_NAME = 'drill-%s'
# The safety set a rollback takes first, per set name (else id).
SAFETY_SET_NAME = 'safety-before-rollback-%s'
# The default name of a restored server, per backup id.
RESTORED_SERVER_NAME = 'restored-%s'


def job_image_name(job_id, role):
    """Name of the image job ``job_id`` creates for ``role``."""
    return JOB_IMAGE_NAME % {'job_id': job_id, 'role': role}
