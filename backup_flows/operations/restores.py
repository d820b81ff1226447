"""Restore operations: plan a new server from a backup, then run the flow.

Everything is checked before anything is created: the backup and its
server definition in the repository, the target cloud, and the mapping of
the original flavor, networks, availability zone and volume types onto
resources of the target cloud. Bad input fails with a
:class:`~backup_flows.exceptions.BackupFlowsError` and nothing left behind.
Security groups and the key pair are kept where they exist in the target
and dropped with a warning otherwise.
"""

from oslo_log import log as logging
from oslo_utils import uuidutils

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import repository
from backup_flows import tags
from backup_flows.operations import restore_mapping

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

def _read_manifest(url, backup_id):
    with repository.open_repository(CONF, url=url) as repo:
        return repo.show_backup(backup_id)


def _run_restore(backup_id, job_id, disks, server, store):
    """Run the restore flow; a failure names the backup and the job."""
    try:
        _, result = engine.run_flow(keys.FLOW_RESTORE,
                                    {'disks': disks, 'server': server},
                                    store, job_id=job_id)
    except (exceptions.FlowRevertIncomplete, exceptions.JobInterrupted):
        # not "failed and was reverted": they say what was not undone
        raise
    except exceptions.BackupFlowsError as exc:
        reason = (exc.kwargs['reason']
                  if isinstance(exc, exceptions.FlowFailed) else exc)
        failed = exceptions.RestoreFailed(backup_id=backup_id, job_id=job_id,
                                          reason=reason)
        failed.exit_code = exc.exit_code
        raise failed from exc
    return result


def plan(backup_id, server_name=None, flavor=None, networks=None,
         availability_zone=None, volume_type=None, target_cloud=None,
         repository_url=None):
    """Check a restore, map it onto the target cloud (arguments as for
    :func:`restore`); create nothing. Returns plain data: ``{'cloud',
    'cloud_label', 'url', 'disks', 'server' (the restore flow's arguments),
    'flavor', 'networks', 'availability_zone', 'warnings'}``."""
    url = repository.resolve_url(CONF, repository_url)
    # the backup first: a wrong id or repository is bad input, whatever
    # the state of the cloud
    manifest = _read_manifest(url, backup_id)
    cloud = clients.resolved_cloud(target_cloud)
    conn = clients.check_cloud(cloud)
    mapping = restore_mapping.Mapping(conn, cloud or '(default)', backup_id,
                                      manifest)
    original = mapping.server
    name = (server_name or original.get('name') or
            tags.RESTORED_SERVER_NAME % backup_id)
    zone = mapping.availability_zone(availability_zone)
    disks = mapping.disks(name, mapping.requested_volume_type(volume_type),
                          mapping.volume_zone(zone))
    flavor_ = mapping.flavor(flavor, disks[0])
    nics, network_ids = mapping.networks(networks)
    metadata = {key: str(value) for key, value in
                (original.get('metadata') or {}).items()
                if not key.startswith(tags.PREFIX)}
    metadata[tags.BACKUP_ID] = backup_id
    server = {'name': name, 'flavor_id': flavor_.id, 'networks': nics,
              'availability_zone': zone,
              'security_groups': mapping.security_groups(),
              'key_name': mapping.key_name(), 'metadata': metadata,
              'tags': list(original.get('tags') or [])}
    return {'cloud': cloud, 'cloud_label': mapping.cloud, 'url': url,
            'disks': disks, 'server': server, 'flavor': flavor_.name,
            'networks': network_ids, 'availability_zone': zone,
            'warnings': mapping.warnings}


def restore(backup_id, server_name=None, flavor=None, networks=None,
            availability_zone=None, volume_type=None, target_cloud=None,
            repository_url=None):
    """Restore a backup onto a new server; return what was created.

    :param target_cloud: clouds.yaml entry to restore into (default: the
        cloud of --os-cloud/OS_CLOUD).
    :param repository_url: repository holding the backup (default:
        :func:`backup_flows.repository.resolve_url`).
    """
    planned = plan(backup_id, server_name=server_name, flavor=flavor,
                   networks=networks, availability_zone=availability_zone,
                   volume_type=volume_type, target_cloud=target_cloud,
                   repository_url=repository_url)
    disks, server = planned['disks'], planned['server']
    job_id = uuidutils.generate_uuid()
    LOG.info('Restoring backup %s as server %s in cloud %s (job %s)',
             backup_id, server['name'], planned['cloud_label'], job_id)
    result = _run_restore(backup_id, job_id, disks, server,
                          _store(backup_id, job_id, planned))
    return created(disks, server, result, planned)


def _store(backup_id, job_id, planned):
    return {keys.CLOUD: planned['cloud'], keys.JOB_ID: job_id,
            keys.BACKUP_ID: backup_id, keys.REPOSITORY_URL: planned['url']}


def post(backup_id, planned, job_id=None):
    """Post a planned restore (:func:`plan`) to the jobboard; return the
    job's id at once."""
    job_id = job_id or uuidutils.generate_uuid()
    LOG.info('Posting the restore of backup %s as server %s (job %s)',
             backup_id, planned['server']['name'], job_id)
    engine.post_flow(keys.FLOW_RESTORE, {'disks': planned['disks'],
                                         'server': planned['server']},
                     _store(backup_id, job_id, planned), job_id=job_id)
    return job_id


def created(disks, server, store, planned=None):
    """What a finished restore job made, from its flow's arguments
    (``disks``, ``server``) and its flow store; ``planned`` is the plan
    the job was run from (:func:`plan`): without it (``job resume``) the
    flavor is the id and warnings are not known."""
    if planned is None:
        nics = server['networks']
        planned = {'flavor': server['flavor_id'],
                   'networks': ([] if nics == 'none' else
                                [nic.get('uuid') for nic in nics]),
                   'availability_zone': server['availability_zone'],
                   'warnings': [],
                   'cloud_label': store.get(keys.CLOUD) or '(default)'}
    root = disks[0]
    return dict(
        {key: planned[key] for key in ('flavor', 'networks',
                                       'availability_zone', 'warnings')},
        server_id=store[keys.SERVER_ID], server_name=server['name'],
        image_id=(store[keys.restored_image_key(root['disk'])]
                  if root['role'] == tags.ROLE_ROOT_IMAGE else None),
        volume_ids=[store[keys.restored_volume_key(d['disk'])]
                    for d in disks if 'volume' in d],
        backup_id=store[keys.BACKUP_ID], job_id=store[keys.JOB_ID],
        cloud=planned['cloud_label'],
        security_groups=server['security_groups'],
        key_name=server['key_name'])
