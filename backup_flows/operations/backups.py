"""Server backup operations: plan from the cloud's facts, run the flow.

The CLI (and later the API) call these. Input, the cloud and the
repository are checked before anything is created, so bad input fails with
nothing left behind.
"""

import dataclasses
import datetime
import time

from oslo_log import log as logging
from oslo_utils import uuidutils

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import plugins
from backup_flows import repository
from backup_flows import tags
from backup_flows.cloud import server_definition
from backup_flows.cloud import servers
from backup_flows.repository import manifest as manifest_mod

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)


def open_repository(url=None, create=False):
    """Open the repository; the embedded default is created on first use,
    and so is any with ``create`` (a project's, in service mode).

    A repository named explicitly (option or configuration) must exist:
    ``repository init`` creates it.
    """
    url = repository.resolve_url(CONF, url)
    try:
        return repository.open_repository(CONF, url=url)
    except exceptions.RepositoryNotFound:
        if not create and (CONF.repository.url or
                           url != repository.embedded_url(CONF)):
            raise
        LOG.info('Creating the backup repository %s', url)
        try:
            return repository.init_repository(CONF, url=url)
        except exceptions.RepositoryExists:
            # another process created it meanwhile
            return repository.open_repository(CONF, url=url)


def _exporter(name):
    plugins.load(plugins.EXPORTERS, name)
    return name


def _plan_disks(definition, facts):
    disks = []
    for disk in definition['disks']:
        entry = dict(disk)
        if disk['role'] == tags.ROLE_ROOT_IMAGE:
            entry['exporter'] = _exporter(CONF.backup.root_exporter)
        else:
            entry['exporter'] = _exporter(CONF.backup.volume_exporter)
        disks.append(entry)
    return disks


def _transient_set_meta(facts, plan, job_id, now):
    """set_meta of the snapshot set a backup takes as its source."""
    set_name = 'backup-%s-%s' % (facts['name'], now.strftime('%Y%m%dT%H%M%SZ'))
    ttl = datetime.timedelta(seconds=CONF.backup.transient_snapshot_ttl)
    return {
        'set_id': uuidutils.generate_uuid(), 'job_id': job_id,
        'name': set_name, 'image_name': set_name,
        'server_id': facts['id'],
        'consistency': plan['consistency'],
        'requested_consistency': plan['requested'],
        'created_at': now.replace(microsecond=0).isoformat(),
        'expires_at': (now + ttl).replace(microsecond=0).isoformat(),
        'members': 1 + len(facts['volumes']),
    }


@dataclasses.dataclass
class BackupPlan:
    """A backup job planned from the cloud's facts, ready to run or post."""

    job_id: str
    backup_id: str
    server_id: str
    url: str
    consistency: str
    flow_args: dict
    store: dict


def plan(server, url=None, quiesce=None, tags=(), cloud=None,
         require_consistency=False, local_disks=None,
         create_repository=False):
    """Check the input, the cloud and the repository and plan a backup of
    ``server``; nothing is created in the cloud. ``cloud``: a clouds.yaml
    name or a credentials reference (``clients.trust_ref``);
    ``create_repository``: create the repository if it does not exist (a
    project's, in service mode)."""
    quiesce = quiesce or CONF.backup.quiesce
    strategy = plugins.load_quiesce(quiesce)
    conn = clients.check_cloud(cloud)
    with open_repository(url, create=create_repository) as repo:
        url = repo.url
    planned_at = time.time()
    facts = servers.describe(conn, server)
    servers.check_stable(facts, 'back up')
    server_definition.check_local_disks(facts, local_disks)
    consistency = strategy.plan(facts, require_consistency)
    definition = server_definition.capture(conn, facts)
    disks = _plan_disks(definition, facts)
    now = datetime.datetime.now(datetime.timezone.utc)
    job_id = uuidutils.generate_uuid()
    backup_id = manifest_mod.new_backup_id(now)
    set_meta = _transient_set_meta(facts, consistency, job_id, now)
    backup_meta = {
        'kind': 'server-backup',
        'server': definition,
        'consistency': consistency['consistency'],
        'requested_consistency': consistency['requested'],
        'downgrade_reason': consistency['downgrade'],
        'source': {'cloud': clients.cloud_label(cloud),
                   'project_id': conn.current_project_id,
                   'region': conn.config.region_name,
                   'auth_url': conn.config.auth.get('auth_url')
                   if conn.config.auth else None},
        'tags': sorted(set(tags or ())),
        'job_id': job_id,
        'created_at': now.isoformat(),
    }
    flow_args = {'root': facts['root'], 'volumes': facts['volumes'],
                 'quiesce': consistency['mode'],
                 'planned_status': consistency['status'], 'disks': disks}
    store = {keys.CLOUD: clients.resolved_cloud(cloud),
             keys.PLANNED_AT: planned_at,
             keys.SERVER_ID: facts['id'], keys.SET_META: set_meta,
             keys.SET_ID: set_meta['set_id'],
             keys.JOB_ID: job_id, keys.REPOSITORY_URL: url,
             keys.BACKUP_ID: backup_id, 'backup_meta': backup_meta}
    LOG.info('Backup %s of server %s (%d disks) into %s: %s consistency',
             backup_id, facts['id'], len(disks), url,
             consistency['consistency'])
    return BackupPlan(job_id, backup_id, facts['id'], url,
                      consistency['consistency'], flow_args, store)


def create(server, url=None, quiesce=None, tags=(), cloud=None,
           require_consistency=False, local_disks=None):
    """Back up ``server`` into the repository; return the backup's dict.

    ``local_disks``: ``refuse`` or ``skip`` a server with an ephemeral disk
    (default ``[backup] local_disks``)."""
    planned = plan(server, url, quiesce, tags, cloud, require_consistency,
                   local_disks)
    _, stored = engine.run_flow(keys.FLOW_BACKUP_CREATE, planned.flow_args,
                                planned.store, job_id=planned.job_id)
    return created(stored)


def post(planned):
    """Post a planned backup to the jobboard; returns at once."""
    engine.post_flow(keys.FLOW_BACKUP_CREATE, planned.flow_args,
                     planned.store, job_id=planned.job_id)


def committed(store):
    """The dict of the backup a finished backup job committed, from its
    flow store."""
    backup_id = store[keys.BACKUP_ID]
    if isinstance(backup_id, list):
        # given to the flow and provided by commit-backup: both values
        backup_id = backup_id[-1]
    return show(backup_id, store[keys.REPOSITORY_URL])


def created(store):
    """What a finished backup job made, from its flow store: the backup's
    dict and its transient set's fate (``transient_set``); ``create`` and
    ``job resume`` return it."""
    return dict(committed(store),
                transient_set=transient_set_report(store[keys.JOB_ID],
                                                   store[keys.SET_ID]))


def transient_set_report(job_id, set_id):
    """What became of a finished backup job's transient snapshot set:
    ``{'id', 'deleted': bool, 'errors': {task: error}}``; what could not be
    deleted is left for ``job cleanup``."""
    errors = engine.get_job(job_id).to_dict()['failed_cleanups']
    return {'id': set_id, 'deleted': not errors, 'errors': errors}


def to_dict(document, url):
    """The JSON view of a backup manifest."""
    meta = document.get('metadata') or {}
    definition = meta.get('server') or {}
    stats = meta.get('disk_stats') or {}
    return {
        'id': document['id'],
        'server_id': document['server'],
        'server_name': definition.get('name'),
        'created_at': document['created_at'],
        'consistency': meta.get('consistency'),
        'repository': url,
        'status': 'available',
        'tags': meta.get('tags', []),
        'job_id': meta.get('job_id'),
        'skipped_disks': definition.get('skipped_disks', []),
        'disks': [{'name': disk['name'], 'size': disk['size'],
                   'checksum': 'sha256:%s' % disk['sha256'],
                   'stored_bytes': stats.get(disk['name'], {}).get(
                       'stored_bytes'),
                   'new_bytes': stats.get(disk['name'], {}).get(
                       'new_bytes')}
                  for disk in document['disks']],
    }


def show(backup_id, url=None):
    with open_repository(url) as repo:
        return to_dict(repo.show_backup(backup_id), repo.url)


def _server_id(server, cloud):
    """Id of ``server``: an id is taken as is (the server may be deleted),
    a name is looked up in the cloud; ``None`` for no server."""
    if not server or uuidutils.is_uuid_like(server):
        return server or None
    return servers.find_server(clients.check_cloud(cloud), server).id


def list_backups(server=None, url=None, cloud=None):
    """Backups, oldest first; ``server`` is a name or id (a name is
    resolved in the cloud; an id also matches deleted servers)."""
    server_id = _server_id(server, cloud)
    with open_repository(url) as repo:
        documents, errors = repo.load_manifests()
        result = [to_dict(d, repo.url) for d in documents
                  if server_id is None or d['server'] == server_id]
        for backup_id, reason in sorted(errors.items()):
            result.append({'id': backup_id, 'status': 'damaged',
                           'error': reason, 'repository': repo.url})
    return result


def _run(flow_name, flow_args, store):
    """Run a flow as a new job; return (job id, the flow's result)."""
    job_id, result = engine.run_flow(flow_name, flow_args, store)
    return job_id, result[keys.RESULT]


def delete(backup_id, url=None):
    """Forget one backup (a ``backup-delete`` job); its data goes at the
    next prune."""
    with open_repository(url) as repo:
        url = repo.url
        if not repo.has_backup(backup_id):
            raise exceptions.BackupNotFound(backup_id=backup_id, url=url)
    job_id, result = _run(keys.FLOW_BACKUP_DELETE, {},
                          {keys.REPOSITORY_URL: url,
                           keys.BACKUP_ID: backup_id})
    return dict(result, job_id=job_id)


def verify(backup_id, url=None, deep=False):
    """Check one backup (a ``backup-verify`` job); a damaged one raises
    BackupDamaged naming its disks."""
    with open_repository(url) as repo:
        url = repo.url
        repo.show_backup(backup_id)
    job_id, result = _run(keys.FLOW_BACKUP_VERIFY, {'deep': bool(deep)},
                          {keys.REPOSITORY_URL: url,
                           keys.BACKUP_ID: backup_id})
    return dict(result, job_id=job_id)


def policy_from(keep_last=None, keep_hourly=None, keep_daily=None,
                keep_weekly=None, keep_monthly=None, keep_yearly=None):
    """The retention policy: arguments given, else [backup] keep_*."""
    def pick(value, option):
        return int(value) if value is not None else getattr(CONF.backup,
                                                            option)
    return repository.Policy(
        keep_last=pick(keep_last, 'keep_last'),
        hourly=pick(keep_hourly, 'keep_hourly'),
        daily=pick(keep_daily, 'keep_daily'),
        weekly=pick(keep_weekly, 'keep_weekly'),
        monthly=pick(keep_monthly, 'keep_monthly'),
        yearly=pick(keep_yearly, 'keep_yearly'))


def prune(policy, server=None, url=None, dry_run=False, cloud=None):
    """Apply ``policy`` and collect garbage (a ``backup-prune`` job, under
    the repository's exclusive lock); return prune's report."""
    if policy.empty():
        raise exceptions.InvalidInput(
            reason='no retention rule given (--keep-last, --keep-daily, '
                   '... or [backup] keep_* options); refusing to prune')
    server_id = _server_id(server, cloud)
    return _prune(policy, server_id, url, dry_run)


def collect_garbage(url=None, dry_run=False):
    """Delete the data no backup uses, forgetting no backup: prune's own
    job with a policy that keeps every backup, so the same exclusive lock,
    grace period and two-phase deletion; return prune's report."""
    url = repository.resolve_url(CONF, url)
    with repository.open_repository(CONF, url=url) as repo:
        # an existing repository only: garbage collection creates none
        url = repo.url
    return _prune(repository.Policy(), None, url, dry_run)


def _prune(policy, server_id, url, dry_run):
    with open_repository(url) as repo:
        url = repo.url
    job_id, result = _run(
        keys.FLOW_BACKUP_PRUNE,
        {'policy': dataclasses.asdict(policy), 'server_id': server_id,
         'dry_run': bool(dry_run)},
        {keys.REPOSITORY_URL: url})
    return dict(result, job_id=job_id)
