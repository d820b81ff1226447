"""What the API shows of a project's backups, restores and jobs: catalog
rows, with what only the repository or the job's persisted state knows."""

from backup_flows import engine
from backup_flows import exceptions
from backup_flows.db import catalog
from backup_flows.db import models
from backup_flows.operations import backups

_BACKUP_FIELDS = ('id', 'status', 'job_id', 'server_id', 'consistency',
                  'size', 'disk_count', 'tags', 'error', 'created_at',
                  'updated_at', 'project_id', 'user_id')
_RESTORE_FIELDS = ('id', 'status', 'job_id', 'backup_id', 'server_id',
                   'name', 'error', 'created_at', 'updated_at', 'project_id',
                   'user_id')
_JOB_FIELDS = ('id', 'flow', 'resource_type', 'resource_id', 'state',
               'error', 'attempts', 'created_at', 'updated_at',
               'project_id', 'user_id')


def _view(row, fields):
    view = {name: row.get(name) for name in fields}
    for name in ('created_at', 'updated_at'):
        if view.get(name) is not None:
            view[name] = view[name].isoformat(timespec='seconds') + 'Z'
    return view


def _page(model, fields, context, filters, limit, marker, all_projects):
    rows = catalog.list_entries(context, model, filters=filters,
                                limit=limit, marker=marker,
                                all_projects=all_projects)
    return [_view(row, fields) for row in rows]


def list_backups(context, filters=None, limit=None, marker=None,
                 all_projects=False):
    """A page of the project's backups, oldest first."""
    return _page(models.Backup, _BACKUP_FIELDS, context, filters, limit,
                 marker, all_projects)


def show_backup(context, backup_id):
    """One backup of the project; an available one with its disks, read
    from its manifest (the truth of what it holds)."""
    row = catalog.get_entry(context, models.Backup, backup_id)
    view = _view(row, _BACKUP_FIELDS)
    view['disks'] = []
    if row['status'] == 'available':
        view['disks'] = backups.show(backup_id, row['repository_url'])['disks']
    return view


def list_restores(context, filters=None, limit=None, marker=None,
                  all_projects=False):
    """A page of the project's restores, oldest first."""
    return _page(models.Restore, _RESTORE_FIELDS, context, filters, limit,
                 marker, all_projects)


def show_restore(context, restore_id):
    """One restore of the project."""
    return _view(catalog.get_entry(context, models.Restore, restore_id),
                 _RESTORE_FIELDS)


def list_jobs(context, filters=None, limit=None, marker=None,
              all_projects=False):
    """A page of the project's jobs (as recorded when posted and when they
    ended), oldest first."""
    return _page(models.Job, _JOB_FIELDS, context, filters, limit, marker,
                 all_projects)


def show_job(context, job_id):
    """One job of the project, with its live state and tasks."""
    view = _view(catalog.get_entry(context, models.Job, job_id),
                 _JOB_FIELDS)
    try:
        job = engine.get_job(job_id).to_dict()
    except exceptions.JobNotFound:
        return view   # purged: the catalog keeps its end
    view.update(state=job['state'], error=job['error'],
                tasks=job.get('tasks', []),
                failed_reverts=job['failed_reverts'],
                failed_cleanups=job['failed_cleanups'])
    return view
