"""Jobs the API starts for a user: trust, catalog rows, posting; and what
a conductor records when such a job ends.

A request is planned with the caller's trust (so planning sees the cloud
as the job will), recorded in the catalog (the resource's row with status
``creating``, the job's row, the job as a holder of the trust), then
posted. When the job ends, its conductor sets the resource's status from
the job's outcome, and releases the trust: deleted in Keystone once no job
or policy holds it.
"""

from oslo_context import context as oslo_context
from oslo_log import log as logging
from oslo_utils import uuidutils
from taskflow import states

from backup_flows import clients
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import plugins
from backup_flows.cloud import trusts as cloud_trusts
from backup_flows.db import catalog
from backup_flows.db import models
from backup_flows.db import trusts as db_trusts
from backup_flows.operations import backups
from backup_flows.operations import restores

LOG = logging.getLogger(__name__)

HOLDER_JOB = 'job'


def trust_for(context, user_auth):
    """The caller's trust reference in their project, created (in Keystone
    and in the catalog) on first use."""
    ref = db_trusts.get_reference(context, context.user_id,
                                  context.project_id)
    if ref is not None:
        return ref
    trust_id = cloud_trusts.create_trust(user_auth, context.user_id,
                                         context.project_id, context.roles)
    ref, created = db_trusts.create_reference(
        context, context.user_id, context.project_id, trust_id)
    if not created:
        # another request of this user made one first: use that one
        cloud_trusts.delete_trust(trust_id)
    return ref


def _held_trust(context, user_auth, job_id, ref):
    """The caller's trust ``ref``, now held by ``job_id``; if its last
    holder let it go meanwhile, the caller's trust got (or made) again."""
    try:
        db_trusts.add_holder(context, ref['id'], HOLDER_JOB, job_id)
        return ref
    except exceptions.TrustReferenceNotFound:
        ref = trust_for(context, user_auth)
    db_trusts.add_holder(context, ref['id'], HOLDER_JOB, job_id)
    return ref


def _release(context, ref_id, job_id):
    trust_id = db_trusts.remove_holder(context, ref_id, HOLDER_JOB, job_id)
    if trust_id:
        cloud_trusts.delete_trust(trust_id)


def quiesce_modes():
    """Names of the installed quiesce strategies."""
    return plugins.available(plugins.QUIESCE)


def project_repository(project_id):
    """The repository URL of a project: ``[repository] url`` with
    ``{project_id}`` filled in (None: the embedded default); planning a
    backup creates it on first use."""
    template = backups.CONF.repository.url
    if not template:
        return None
    return template.replace('{project_id}', project_id)


def post_backup(context, user_auth, server_id, quiesce=None, tags=()):
    """Plan and post a backup of ``server_id`` for the caller; return its
    catalog row (status ``creating``)."""
    # planned with the trust: checks the server and the repository as the
    # job will see them; nothing is recorded before the plan holds
    ref = trust_for(context, user_auth)
    planned = backups.plan(
        server_id, url=project_repository(context.project_id),
        quiesce=quiesce, tags=tags, cloud=clients.trust_ref(ref['trust_id']),
        create_repository=True)
    ref = _held_trust(context, user_auth, planned.job_id, ref)
    try:
        row = catalog.create_entry(context, models.Backup, {
            'id': planned.backup_id, 'job_id': planned.job_id,
            'server_id': planned.server_id, 'repository_url': planned.url,
            'consistency': planned.consistency, 'tags': sorted(set(tags))})
        catalog.create_entry(context, models.Job, {
            'id': planned.job_id, 'flow': keys.FLOW_BACKUP_CREATE,
            'resource_type': 'backup', 'resource_id': planned.backup_id,
            'state': states.PENDING, 'trust_ref_id': ref['id']})
        backups.post(planned)
    except BaseException:
        _delete_quietly(context, models.Job, planned.job_id)
        _delete_quietly(context, models.Backup, planned.backup_id)
        _release(context, ref['id'], planned.job_id)
        raise
    return row


def post_restore(context, user_auth, backup_id, name=None, flavor_id=None,
                 networks=None, availability_zone=None, volume_type=None):
    """Plan and post the restore of one of the project's available
    backups onto a new server; return its catalog row (``restoring``)."""
    backup = catalog.get_entry(context, models.Backup, backup_id)
    if backup['status'] != 'available':
        raise exceptions.CatalogStatusConflict(
            kind='Backup', ident=backup_id, status=backup['status'],
            expected='available')
    ref = trust_for(context, user_auth)
    planned = restores.plan(
        backup_id, server_name=name, flavor=flavor_id, networks=networks,
        availability_zone=availability_zone, volume_type=volume_type,
        target_cloud=clients.trust_ref(ref['trust_id']),
        repository_url=backup['repository_url'])
    restore_id = uuidutils.generate_uuid()
    job_id = uuidutils.generate_uuid()
    ref = _held_trust(context, user_auth, job_id, ref)
    try:
        row = catalog.create_entry(context, models.Restore, {
            'id': restore_id, 'job_id': job_id, 'backup_id': backup_id,
            'name': planned['server']['name']})
        catalog.create_entry(context, models.Job, {
            'id': job_id, 'flow': keys.FLOW_RESTORE,
            'resource_type': 'restore', 'resource_id': restore_id,
            'state': states.PENDING, 'trust_ref_id': ref['id']})
        restores.post(backup_id, planned, job_id=job_id)
    except BaseException:
        _delete_quietly(context, models.Job, job_id)
        _delete_quietly(context, models.Restore, restore_id)
        _release(context, ref['id'], job_id)
        raise
    return row


def _delete_quietly(context, model, ident):
    try:
        catalog.delete_entry(context, model, ident)
    except exceptions.NotFound:
        pass


def service_context():
    """The context a conductor records with: every project's rows."""
    return oslo_context.RequestContext(is_admin=True, overwrite=False)


RESOURCES = {'backup': models.Backup, 'restore': models.Restore}


def record_job_start(job_id):
    """Mark a job the API posted RUNNING in the catalog, as a conductor
    starts it (again, after a takeover)."""
    context = service_context()
    try:
        catalog.update_entry(context, models.Job, job_id,
                             {'state': states.RUNNING}, all_projects=True)
    except exceptions.NotFound:
        pass    # not the API's (the admin CLI's)


def record_job_end(job_id):
    """Set the catalog rows of a job that ended (a conductor calls this);
    a job the API did not post (the admin CLI's) has none."""
    context = service_context()
    try:
        row = catalog.get_entry(context, models.Job, job_id,
                                all_projects=True)
    except exceptions.NotFound:
        return
    job = engine.get_job(job_id)
    model = RESOURCES.get(row['resource_type'])
    if model is not None:
        catalog.update_entry(context, model, row['resource_id'],
                             _resource_values(row['resource_type'], job),
                             all_projects=True)
    catalog.update_entry(context, models.Job, job_id,
                         {'state': job.state, 'error': job.meta.get('error'),
                          'attempts': int(job.meta.get('attempts') or 0)},
                         all_projects=True)
    if row['trust_ref_id']:
        _release(context, row['trust_ref_id'], job_id)


def _resource_values(resource_type, job):
    if job.raw_state != states.SUCCESS or job.meta.get('gave_up'):
        return {'status': 'error',
                'error': job.meta.get('error') or 'the job did not finish'}
    store = engine.stored_values(job)
    if resource_type == 'restore':
        return {'status': 'available', 'error': None,
                'server_id': store[keys.SERVER_ID]}
    backup = backups.committed(store)
    return {'status': 'available', 'error': None,
            'size': sum(disk['size'] for disk in backup['disks']),
            'disk_count': len(backup['disks']),
            'consistency': backup['consistency']}
