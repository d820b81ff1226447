"""Restore drills: prove, through the cloud's APIs, that a backup restores.

A drill is one ``backup-drill`` job (see backup_flows.flows.drill): it
restores a backup onto a throw-away server named ``drill-<backup id>``
(the restore flow, default mapping), reads every disk of that server back
through the cloud (Nova's createImage of the root disk, Cinder's upload to
image of each volume once the server is deleted) and compares each
disk's size and SHA-256 with the backup's manifest, the root disk with the
root disk and each restored volume with the disk it was restored from. The
throw-away server, its volumes and every image are deleted afterwards,
also when anything failed (the reverts of the tasks that created them); an
interrupted drill is finished by ``job resume`` or undone by ``job
abort``, both leaving nothing.

A guest that writes to its disks while it boots (journal replay, logs)
changes them before they are read back: the drill then reports those disks
as different. Drill servers whose guests leave their disks alone, or disks
the guest does not mount.
"""

import datetime

from oslo_log import log as logging
from oslo_utils import uuidutils

from backup_flows import conf as bf_conf
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import repository
from backup_flows import tags
from backup_flows.operations import backups
from backup_flows.operations import restores

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

# Errors that are not the drill's: they keep their own message.
_NOT_THE_DRILL = (exceptions.BackupDamaged, exceptions.BackupNotFound,
                  exceptions.RepositoryNotFound, exceptions.JobInterrupted)


def _failed(backup_id, reason, exit_code=exceptions.EXIT_FAILED):
    error = exceptions.BackupFlowsError(
        'Drill of backup %s failed: %s' % (backup_id, reason))
    error.exit_code = exit_code
    return error


def verify(backup_id, url=None, deep=False):
    """``backup verify --drill``: check the repository, then drill (one
    job); return the verification with the drill's result under
    ``drill``."""
    result = _drill(backup_id, url, 'deep' if deep else 'quick')
    return dict(result[keys.VERIFICATION], drill=result[keys.RESULT],
                job_id=result[keys.RESULT]['job_id'])


def run(backup_id, url=None):
    """Restore a backup onto a throw-away server and compare its disks.

    Returns ``{'server_id', 'disks': [{'name', 'expected', 'actual',
    'ok'}], 'cleaned_up', 'job_id'}``. Raises
    :class:`~backup_flows.exceptions.BackupFlowsError` when a disk differs,
    the restore or the read-back fails, or something could not be deleted.
    """
    return _drill(backup_id, url, None)[keys.RESULT]


def _read_back_set(backup_id, job_id):
    """set_meta of the read-back image of the throw-away server's root."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = tags.DRILL_READ_BACK_NAME % backup_id
    return {'set_id': uuidutils.generate_uuid(), 'job_id': job_id,
            'name': name, 'image_name': name, 'server_id': None,
            'consistency': 'crash', 'requested_consistency': 'crash',
            'created_at': now.isoformat(), 'expires_at': None,
            'members': 1}


def _drill(backup_id, url, verify_mode):
    """Plan and run the drill job; return the flow's store."""
    url = repository.resolve_url(CONF, url)
    try:
        with backups.open_repository(url) as repo:
            url = repo.url
        planned = restores.plan(
            backup_id, server_name=tags.DRILL_SERVER_NAME % backup_id,
            repository_url=url)
        job_id = uuidutils.generate_uuid()
        store = {keys.CLOUD: planned['cloud'], keys.JOB_ID: job_id,
                 keys.BACKUP_ID: backup_id, keys.REPOSITORY_URL: url,
                 keys.SET_META: _read_back_set(backup_id, job_id)}
        flow_args = {'disks': planned['disks'], 'server': planned['server'],
                     'verify': verify_mode}
        LOG.info('Drill of backup %s on server %s (job %s)', backup_id,
                 tags.DRILL_SERVER_NAME % backup_id, job_id)
        _, result = engine.run_flow(keys.FLOW_BACKUP_DRILL, flow_args,
                                    store, job_id=job_id)
    except _NOT_THE_DRILL:
        raise
    except exceptions.BackupFlowsError as exc:
        reason = (exc.kwargs['reason']
                  if type(exc) is exceptions.FlowFailed else exc)
        raise _failed(backup_id, reason, exc.exit_code) from exc
    result[keys.RESULT] = dict(result[keys.RESULT], job_id=job_id)
    return result
