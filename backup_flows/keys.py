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
