"""Tasks on the backups of a repository: verify, forget, prune.

Each opens the repository from its URL (plain data in the store) and
closes it before returning; the repository takes the locks it takes for
the same calls outside a flow (a shared one to read or forget, the
exclusive one to prune).
"""

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows import keys
from backup_flows.repository import retention
from backup_flows.tasks import base
from backup_flows.tasks import repository as repo_tasks

LOG = logging.getLogger(__name__)


def damaged(backup_id, problems, deep=False):
    """The BackupDamaged error naming the damaged disks of ``problems``
    (as :func:`backup_flows.tasks.repository.verify_backup` lists them);
    its ``report`` is the verification's (``ok`` false)."""
    error = exceptions.BackupDamaged(
        backup_id=backup_id,
        disks=', '.join(sorted({str(p['disk']) for p in problems})),
        details='; '.join('%s: %s' % (p['disk'], p['problem'])
                          for p in problems))
    error.report = {'id': backup_id, 'deep': bool(deep), 'ok': False,
                    'problems': list(problems)}
    return error


class VerifyBackupData(base.BackupFlowsTask):
    """Check one backup's data in the repository, quick or deep.

    Quick: every chunk it names is indexed and its pack exists; deep: every
    disk is read back and each chunk and whole-disk checksum checked
    (``deep`` injected). Returns ``{'id', 'deep', 'ok', 'problems'}``; a
    damaged backup fails the task with BackupDamaged naming its disks.

    Reversion strategy: nothing to undo (reads only).
    """

    default_provides = keys.RESULT

    def execute(self, repository_url, backup_id, deep=False):
        with repo_tasks.open_repository(repository_url) as repo:
            problems = repo_tasks.verify_backup(repo, backup_id, deep=deep)
        if problems:
            raise damaged(backup_id, problems, deep=deep)
        LOG.info('Backup %s verified (%s)', backup_id,
                 'deep' if deep else 'quick')
        return {'id': backup_id, 'deep': deep, 'ok': True, 'problems': []}


class ForgetBackup(base.BackupFlowsTask):
    """Delete one backup's manifest; its data goes at the next prune.

    Run again after a crash, it finds the manifest gone and is done.
    Returns ``{'id', 'status': 'deleted'}``.

    Reversion strategy: none possible (the manifest is gone); it is the
    flow's only task.
    """

    default_provides = keys.RESULT

    def execute(self, repository_url, backup_id):
        with repo_tasks.open_repository(repository_url) as repo:
            if repo.has_backup(backup_id):
                repo.forget([backup_id])
            else:
                LOG.info('Backup %s was forgotten before a restart',
                         backup_id)
        return {'id': backup_id, 'status': 'deleted'}


class PruneRepository(base.BackupFlowsTask):
    """Forget backups by retention policy, then collect garbage.

    ``policy`` (injected) holds the counts of a retention policy
    (``keep_last``, ``hourly``, ... as :class:`retention.Policy`);
    ``server_id`` limits it to one server's backups; ``dry_run`` only
    reports. The repository's prune runs under its exclusive lock with its
    own crash-safe order, grace period and two phases (unused packs are
    pending first, deleted by a later prune), so a run interrupted at any
    point loses nothing and is simply run again. Returns prune's report.

    Reversion strategy: none possible (forgotten manifests and deleted
    packs are gone); nothing is deleted that the policy and the grace
    period did not give up.
    """

    default_provides = keys.RESULT

    def execute(self, repository_url, policy, server_id=None, dry_run=False):
        with repo_tasks.open_repository(repository_url) as repo:
            return repo.prune(retention.Policy(**policy), dry_run=dry_run,
                              server=server_id)
