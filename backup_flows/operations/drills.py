"""Restore drills: prove, through the cloud's APIs, that a backup restores.

A drill is one ``backup-drill`` job (see backup_flows.flows.drill): it
restores a backup's disks into the cloud (the restore flow's tasks, default
mapping), reads each back through the cloud before any guest runs (the
restored root image as Glance serves it; each restored volume, still
detached, through Cinder's upload to image) and compares its size and
SHA-256 with the backup's manifest; then it boots a throw-away server named
``drill-<backup id>`` from those disks and waits for it to be ACTIVE. A
disk that differs fails the drill before the server is created. The
server, its volumes and every image are deleted afterwards, also when
anything failed (the reverts of the tasks that created them); an
interrupted drill is finished by ``job resume`` or undone by ``job
abort``, both leaving nothing. What a guest writes while it boots (journal
replay, logs) does not matter: its disks were compared before.
"""


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
                 keys.BACKUP_ID: backup_id, keys.REPOSITORY_URL: url}
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
