"""Backup flow: transient snapshot set → export every disk → repository.

Shape::

    snapshot-create (sub-flow: check, quiesce, capture, thaw, record set)
    hold-repository-lock (a shared lock, refreshed, until the commit: no
        prune runs between the first write and the manifest)
    copy-disks (side by side, per disk):
        export (exporter plugin) → write-disk → cleanup (exporter plugin)
    commit-backup (the manifest: commit point)
    verify-backup (quick)
    delete-transient-set (best effort: after the commit nothing undoes
        the backup; what it cannot delete is reported and left for
        ``job cleanup``)

Store (plain data): ``cloud``, ``server_id``, ``set_meta`` (as for a
snapshot), ``job_id``, ``set_id`` (of the transient set),
``repository_url``, ``backup_id`` (chosen when the job is planned),
``backup_meta`` (server definition, consistency, source, tags,
created_at).

The delete flow (``backup-delete``) forgets one backup (its manifest);
store: ``repository_url``, ``backup_id``; it provides ``result``.
"""

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from backup_flows import keys
from backup_flows import plugins
from backup_flows.flows import snapshot as snapshot_flow
from backup_flows.tasks import backup as backup_tasks
from backup_flows.tasks import repository as repo_tasks


def _copy_disk(disk):
    exporter = plugins.load(plugins.EXPORTERS, disk['exporter'],
                            invoke_on_load=True)
    return linear_flow.Flow('copy-%s' % disk['disk']).add(
        exporter.export_flow(disk),
        repo_tasks.WriteDiskToRepository(
            name='write-disk-%s' % disk['disk'],
            provides=keys.written_key(disk['disk']),
            inject={'disk': disk},
            rebind={'image_id': keys.export_image_key(disk['disk'])}),
        exporter.cleanup_flow(disk))


def get_flow(root, volumes, quiesce, disks, planned_status=None):
    """Flow backing up a server into the repository.

    :param root: and ``volumes``, ``quiesce``, ``planned_status``: as for
        :func:`backup_flows.flows.snapshot.get_flow`.
    :param disks: the server definition's disks, each with the name of
        its ``exporter`` plugin and, for volumes, its ``volume_id``.
    """
    copy = unordered_flow.Flow('copy-disks')
    for disk in disks:
        copy.add(_copy_disk(disk))
    flow = linear_flow.Flow(keys.FLOW_BACKUP_CREATE)
    flow.add(snapshot_flow.get_flow(root, volumes, quiesce, planned_status,
                                    transient=True))
    flow.add(repo_tasks.HoldRepositoryLock(name='hold-repository-lock'))
    flow.add(copy)
    flow.add(repo_tasks.CommitBackup(
        name='commit-backup',
        requires=[keys.written_key(d['disk']) for d in disks],
        inject={'disk_order': [d['disk'] for d in disks]}))
    flow.add(repo_tasks.VerifyBackup(name='verify-backup'))
    flow.add(snapshot_flow.get_transient_delete_flow(root, volumes))
    return flow


def get_delete_flow():
    """Flow forgetting one backup; its data goes at the next prune."""
    return linear_flow.Flow(keys.FLOW_BACKUP_DELETE).add(
        backup_tasks.ForgetBackup(name='forget-backup'))
