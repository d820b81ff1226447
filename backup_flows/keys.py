"""Flow names and flow store keys.

They are persisted identities: a job posted by one release is resumed by
another, so never rename one; add a new name instead.
"""

# Flow names (stevedore names in the backup_flows.flows namespace).
FLOW_SNAPSHOT_CREATE = 'snapshot-create'
FLOW_SNAPSHOT_DELETE = 'snapshot-delete'
FLOW_SNAPSHOT_ROLLBACK = 'snapshot-rollback'
FLOW_BACKUP_CREATE = 'backup-create'
FLOW_RESTORE = 'restore'
FLOW_SNAPSHOT_EXPIRE = 'snapshot-expire'
FLOW_BACKUP_VERIFY = 'backup-verify'
FLOW_BACKUP_DRILL = 'backup-drill'
FLOW_BACKUP_DELETE = 'backup-delete'
FLOW_BACKUP_PRUNE = 'backup-prune'

# Store keys shared by several flows.
CLOUD = 'cloud'
JOB_ID = 'job_id'
SERVER_ID = 'server_id'
SET_ID = 'set_id'
SET_META = 'set_meta'
SERVER_STATE = 'server_state'
# time.time() just before planning read the server: how fresh its facts are
PLANNED_AT = 'planned_at'
ROOT_IMAGE_ID = 'root_image_id'
REPOSITORY_URL = 'repository_url'
BACKUP_ID = 'backup_id'
TARGET_CLOUD = 'target_cloud'

# What a flow hands back to its caller (a plain dict).
RESULT = 'result'

# Key of the revert result a task's guarded revert returns when its body
# failed (tasks/base.py); engine.failed_reverts() looks for it.
REVERT_FAILED = 'backup_flows_revert_failed'

# Key of the result a best-effort task returns when it failed
# (tasks/base.py); engine.failed_cleanups() looks for it.
CLEANUP_FAILED = 'backup_flows_cleanup_failed'

# What a drill provides: the verification of the backup's data (with
# ``--drill`` of ``backup verify``) and the comparison of its disks.
VERIFICATION = 'verification'
DRILL_DISKS = 'drill_disks'


# Store keys of one disk (by its name in the backup) or of one volume (by
# its id), provided by one task of a flow and required by later ones.

def volume_snapshot_key(volume_id):
    """The id of the snapshot the snapshot flow takes of a volume."""
    return 'volume_snapshot_%s' % volume_id


def export_volume_key(disk_name):
    """The id of the temporary volume a disk is exported through."""
    return 'export_volume_%s' % disk_name


def export_image_key(disk_name):
    """The id of the image holding a disk's bytes for a backup."""
    return 'export_image_%s' % disk_name


def written_key(disk_name):
    """The result of writing a disk into the repository."""
    return 'written_%s' % disk_name


def restored_image_key(disk_name):
    """The id of the image a disk is restored (uploaded) into."""
    return 'image_%s' % disk_name


def restored_volume_key(disk_name):
    """The id of the volume a disk is restored onto."""
    return 'volume_%s' % disk_name


def read_back_key(disk_name):
    """The id of the image a drill reads a restored volume back into."""
    return 'drill_image_%s' % disk_name


def compared_key(disk_name):
    """A drill's comparison of a disk with the backup."""
    return 'drill_disk_%s' % disk_name


def safety_volume_key(volume_id):
    """The id of the temporary volume of a rollback's safety copy."""
    return 'safety_volume_%s' % volume_id


def safety_image_key(volume_id):
    """The id of the image of a rollback's safety copy of a volume."""
    return 'safety_image_%s' % volume_id
