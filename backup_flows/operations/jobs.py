"""Jobs: list, show, abort and purge them; resume an interrupted one and
hand back what the command that started it would have returned.

A resumed job's result is rebuilt from what its flow store and its flow's
arguments hold (both persisted), flow by flow.
"""

from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows.operations import backups
from backup_flows.operations import restores


def _with_job_id(job, store):
    return dict(store[keys.RESULT], job_id=job.id)


def _drilled(job, store):
    # as backup verify --drill (verification first), or the drill alone
    drill = dict(store[keys.RESULT], job_id=job.id)
    verification = store.get(keys.VERIFICATION)
    if verification is None:
        return drill
    return dict(verification, drill=drill, job_id=job.id)


def _backup_created(job, store):
    return backups.created(store)


def _restored(job, store):
    return restores.created(job.args['disks'], job.args['server'], store)


def _snapshot_created(job, store):
    return store[keys.RESULT]


def _snapshot_deleted(job, store):
    return {'id': store[keys.SET_ID], 'status': 'deleted'}


def _sets_expired(job, store):
    return [{'id': item['set_id'], 'action': 'deleted', 'job_id': job.id}
            for item in job.args['sets']]


def _rolled_back(job, store):
    safety = job.args.get('safety')
    return {'server_id': store[keys.SERVER_ID], 'job_id': job.id,
            'image_id': job.args['image_id'],
            'volumes': [v['volume_id'] for v in job.args['volumes']],
            'safety_set_id': safety['set_id'] if safety else None,
            'status': 'rolled back'}


_RESULTS = {
    keys.FLOW_BACKUP_CREATE: _backup_created,
    keys.FLOW_RESTORE: _restored,
    keys.FLOW_SNAPSHOT_CREATE: _snapshot_created,
    keys.FLOW_SNAPSHOT_DELETE: _snapshot_deleted,
    keys.FLOW_SNAPSHOT_EXPIRE: _sets_expired,
    keys.FLOW_SNAPSHOT_ROLLBACK: _rolled_back,
    keys.FLOW_BACKUP_VERIFY: _with_job_id,
    keys.FLOW_BACKUP_DRILL: _drilled,
    keys.FLOW_BACKUP_DELETE: _with_job_id,
    keys.FLOW_BACKUP_PRUNE: _with_job_id,
}


def result(job, store):
    """What the command that started ``job`` (an engine Job) returns, from
    the store of its finished flow; a flow this release does not know
    (a plugin's) hands back its ``result``, or a summary of the job."""
    build = _RESULTS.get(job.flow)
    if build is not None:
        return build(job, store)
    return store.get(keys.RESULT) or {'id': job.id, 'flow': job.flow,
                                      'state': job.state}


def resume(job_id):
    """Resume an interrupted job; return ``(flow name, result)`` (see
    :func:`result`)."""
    store = engine.resume_job(job_id)
    job = engine.get_job(job_id)
    return job.flow, result(job, store)


def list_jobs():
    """Every job as a dict (no task states), oldest first."""
    return [job.to_dict() for job in engine.list_jobs()]


def show(job_id):
    """One job as a dict, with each task's state."""
    return engine.get_job(job_id).to_dict()


def abort(job_id):
    """Revert an interrupted job (see ``engine.abort_job``); return it."""
    return engine.abort_job(job_id).to_dict()


def purge(older_than, dry_run=False):
    """Purge the jobs that ended ``older_than`` days ago or more (a whole
    number >= 1, as given on the command line). Returns ``(days, number
    purged, [kept job dicts with "result": "kept: why"])``."""
    days = int(older_than) if str(older_than or '').isdigit() else 0
    if days < 1:
        raise exceptions.InvalidInput(
            reason='--older-than %r is not a number of days (a whole '
                   'number >= 1)' % older_than)
    purged, kept = engine.purge_jobs(days, dry_run=dry_run)
    return days, len(purged), [dict(job.to_dict(), result='kept: %s' % why)
                               for job, why in kept]
