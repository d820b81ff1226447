"""``job cleanup``: delete what finished jobs left behind in the cloud.

Every resource a flow creates carries its job id (image property, volume,
snapshot or server metadata, or the name of an image Cinder creates). A
finished job legitimately keeps some of them: a successful snapshot-create
keeps its snapshot set (a rollback, the safety set's images); a successful
restore keeps its server, that
server's volumes and its image; a backup or a drill keeps nothing in the
cloud. Everything else carrying the id of a
finished job (REVERTED, FAILURE, or SUCCESS) is a leftover: what a failed
revert or a failed cleanup could not delete. Jobs that are interrupted or
still running are never touched (``job resume`` or ``job abort`` them), and
neither are resources of jobs this flow database does not know.
"""

import datetime

from oslo_log import log as logging
from taskflow import states

from backup_flows import clients
from backup_flows import engine
from backup_flows import keys
from backup_flows.cloud import resources as cloud_resources
from backup_flows.operations import snapshots

LOG = logging.getLogger(__name__)

FINISHED = (states.SUCCESS, states.REVERTED, states.FAILURE)


def kept(job, resources):
    """Ids among ``resources`` (those of ``job``) that the job keeps."""
    if job.state != states.SUCCESS:
        return set()
    if job.flow in (keys.FLOW_SNAPSHOT_CREATE, keys.FLOW_SNAPSHOT_ROLLBACK):
        # a rollback's safety images belong to the safety set
        return {r['id'] for r in resources if r.get('set_member')}
    if job.flow == keys.FLOW_RESTORE:
        keep = set()
        for srv in (r for r in resources if r['kind'] == 'server'):
            keep.add(srv['id'])
            keep.update(srv['volume_ids'])
            if srv['image_id']:
                keep.add(srv['image_id'])
        return keep
    if job.flow in (keys.FLOW_BACKUP_CREATE, keys.FLOW_BACKUP_DRILL):
        # a drill's throw-away server, volumes and images go with it
        return set()
    # A flow this module does not know: keep everything, to be safe.
    return {r['id'] for r in resources}


def _old_enough(job, older_than):
    if not older_than:
        return True
    stamp = job.meta.get('updated_at') or job.meta.get('created_at')
    if not stamp:
        return True
    age = (datetime.datetime.now(datetime.timezone.utc) -
           datetime.datetime.fromisoformat(stamp))
    return age >= older_than


def leftovers(conn, older_than=None):
    """Resources of finished jobs (older than ``older_than``, a timedelta)
    that those jobs do not keep; servers first, images last."""
    by_job = {}
    for res in cloud_resources.tagged(conn):
        by_job.setdefault(res['job_id'], []).append(res)
    jobs = {job.id: job for job in engine.list_jobs()}
    found = []
    for job_id, resources in by_job.items():
        job = jobs.get(job_id)
        if job is None or job.state not in FINISHED:
            continue
        if not _old_enough(job, older_than):
            continue
        keep = kept(job, resources)
        found += [dict(r, flow=job.flow, job_state=job.state)
                  for r in resources if r['id'] not in keep]
    order = ('server', 'volume', 'snapshot', 'image')
    return sorted(found, key=lambda r: (order.index(r['kind']), r['id']))


def cleanup(cloud=None, older_than=None, dry_run=False):
    """Delete (or, with dry_run, list) the leftovers of finished jobs.

    :param older_than: only jobs that ended at least this long ago (a
        duration such as ``1h`` or ``2d``).
    Returns one row per resource: kind, id, name, job_id, flow, job_state
    and ``result`` (``deleted``, ``would be deleted`` or the error).
    """
    age = (datetime.timedelta(seconds=snapshots.parse_duration(older_than))
           if older_than else None)
    conn = clients.check_cloud(cloud)
    rows = []
    for res in leftovers(conn, age):
        row = {k: res[k] for k in ('kind', 'id', 'name', 'job_id', 'flow',
                                   'job_state')}
        if dry_run:
            row['result'] = 'would be deleted'
        else:
            try:
                cloud_resources.delete(conn, res['kind'], res['id'])
                row['result'] = 'deleted'
                LOG.info('Deleted %s %s left by job %s', res['kind'],
                         res['id'], res['job_id'])
            except Exception as exc:
                row['result'] = 'not deleted: %s' % exc
                LOG.warning('Could not delete %s %s left by job %s: %s',
                            res['kind'], res['id'], res['job_id'], exc)
        rows.append(row)
    return rows
