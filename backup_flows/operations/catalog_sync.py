"""``catalog sync``: the backup catalog rebuilt from the repositories.

The manifests in the repositories are the truth of what backups exist; the
catalog is an index of them for the API. After a lost or restored
database, every committed backup gets its row back (project from its
manifest's source, status ``available``); a row whose backup is gone from
its repository (checked by reading the manifest, never from a listing
alone) is removed. Rows of backups still being made are left alone.
"""

import datetime

from oslo_log import log as logging

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows.db import catalog
from backup_flows.db import models
from backup_flows.operations import backups
from backup_flows.operations import service_jobs

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

SYNC_USER = 'catalog-sync'
PROJECT_FIELD = '{project_id}'


def _targets(project_ids):
    """(repository URL or None, project id or None) pairs to read."""
    template = CONF.repository.url
    if template and PROJECT_FIELD in template:
        if not project_ids:
            raise exceptions.InvalidInput(
                reason='[repository] url holds {project_id}: name the '
                       'projects whose repositories to read with '
                       '--project-id')
        return [(template.replace(PROJECT_FIELD, project), project)
                for project in project_ids]
    return [(template or None, None)]


def _values(document, url, project_id):
    view = backups.to_dict(document, url)
    meta = document.get('metadata') or {}
    created = datetime.datetime.fromisoformat(view['created_at'])
    if created.tzinfo is not None:
        created = created.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    return {'id': view['id'], 'status': 'available', 'error': None,
            'project_id': (project_id or (meta.get('source') or {}).get(
                'project_id') or 'unknown'),
            'server_id': view['server_id'], 'repository_url': url,
            'job_id': view['job_id'], 'consistency': view['consistency'],
            'tags': view['tags'], 'created_at': created,
            'size': sum(disk['size'] for disk in view['disks']),
            'disk_count': len(view['disks'])}


def _catalogued(context, url):
    """Every catalog row of a backup in the repository ``url``."""
    marker = None
    while True:
        page = catalog.list_entries(context, models.Backup, limit=500,
                                    marker=marker, all_projects=True)
        for row in page:
            if row['repository_url'] == url:
                yield row
        if len(page) < 500:
            return
        marker = page[-1]['id']


def _sync_repository(context, repo, project_id, dry_run, report):
    documents, errors = repo.load_manifests()
    report['errors'].update(errors)
    found = set(errors)
    for document in documents:
        values = _values(document, repo.url, project_id)
        found.add(values['id'])
        try:
            row = catalog.get_entry(context, models.Backup, values['id'],
                                    all_projects=True)
        except exceptions.NotFound:
            report['added'].append(values['id'])
            if not dry_run:
                catalog.create_entry(context, models.Backup,
                                     dict(values, user_id=SYNC_USER))
            continue
        if row['status'] != 'available' or any(
                row[key] != value for key, value in values.items()
                if key not in ('created_at', 'project_id')):
            report['updated'].append(values['id'])
            if not dry_run:
                changed = {key: value for key, value in values.items()
                           if key not in ('id', 'project_id', 'created_at')}
                catalog.update_entry(context, models.Backup, values['id'],
                                     changed, all_projects=True)
    for row in list(_catalogued(context, repo.url)):
        if (row['id'] in found or row['status'] == 'creating' or
                repo.has_backup(row['id'])):
            continue
        report['removed'].append(row['id'])
        if not dry_run:
            catalog.delete_entry(context, models.Backup, row['id'],
                                 all_projects=True)


def sync(project_ids=(), dry_run=False):
    """Rebuild the backup catalog from the repositories; return what
    changed: ``{'added', 'updated', 'removed': [backup ids], 'errors':
    {backup id: why its manifest is unreadable}, 'missing': [project ids
    without a repository]}``."""
    context = service_jobs.service_context()
    report = {'added': [], 'updated': [], 'removed': [], 'errors': {},
              'missing': []}
    for url, project_id in _targets(project_ids):
        try:
            repo = backups.open_repository(url)
        except exceptions.RepositoryNotFound:
            report['missing'].append(project_id or url)
            continue
        with repo:
            _sync_repository(context, repo, project_id, dry_run, report)
    LOG.info('Catalog sync: %d added, %d updated, %d removed',
             len(report['added']), len(report['updated']),
             len(report['removed']))
    return report
