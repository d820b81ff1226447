"""Verify flow: check one backup's data in the repository.

Shape::

    verify-backup-data (quick: every chunk indexed, its pack present;
        deep: every disk read back, every checksum checked)

Store (plain data): ``repository_url``, ``backup_id``. The flow provides
``result`` (``{'id', 'deep', 'ok', 'problems'}``); a damaged backup fails
it with BackupDamaged.
"""

from taskflow.patterns import linear_flow

from backup_flows import keys
from backup_flows.tasks import backup as backup_tasks

VERIFY_BACKUP_DATA = 'verify-backup-data'


def verify_task(deep, provides=keys.RESULT):
    """The task checking the backup, for this flow and the drill's."""
    return backup_tasks.VerifyBackupData(name=VERIFY_BACKUP_DATA,
                                         inject={'deep': bool(deep)},
                                         provides=provides)


def get_flow(deep=False):
    """Flow verifying a backup; ``deep`` reads every disk back."""
    return linear_flow.Flow(keys.FLOW_BACKUP_VERIFY).add(verify_task(deep))
