"""Jobs as the CLI and the cleanup see them: list, show, purge.

A job is one TaskFlow logbook holding one flow detail, both with the job's
id; its claim row (in :mod:`backup_flows.engine.persistence`) says which
process runs it.
"""

import contextlib
import datetime
import os
import socket

from oslo_log import log as logging
from taskflow import exceptions as tf_exc
from taskflow import states

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import processes
from backup_flows.engine import persistence

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

# Job states shown to users: TaskFlow's flow states plus INTERRUPTED, a flow
# left RUNNING by a process that no longer exists.
INTERRUPTED = 'INTERRUPTED'
RESUMABLE_STATES = (INTERRUPTED, states.PENDING, states.SUSPENDED,
                    states.RESUMING)


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec='seconds')


class Job:
    """A persisted flow run, as shown by ``job list`` and ``job show``.

    Built from its flow detail's id, state and meta (``job show`` and the
    reverts also load the flow detail with its atoms; ``job list`` does
    not) and its claim row (who runs it).
    """

    def __init__(self, job_id, state, meta, claim=None, flow_detail=None):
        self.id = job_id
        self.raw_state = state or states.PENDING
        self.meta = dict(meta or {})
        self.claim = claim
        self.flow_detail = flow_detail

    @classmethod
    def from_detail(cls, flow_detail, claim=None):
        return cls(flow_detail.uuid, flow_detail.state, flow_detail.meta,
                   claim, flow_detail)

    @property
    def flow(self):
        return self.meta.get('flow')

    @property
    def args(self):
        """The keyword arguments of the job's flow factory."""
        factory = self.meta.get('factory')
        if factory:
            return factory.get('kwargs') or {}
        return self.meta.get('args') or {}

    @property
    def state(self):
        if (self.raw_state in (states.RUNNING, states.REVERTING)
                and not claim_alive(self.claim)):
            return INTERRUPTED
        return self.raw_state

    def to_dict(self):
        job = {
            'id': self.id,
            'flow': self.flow,
            'state': self.state,
            'created_at': self.meta.get('created_at'),
            'updated_at': self.meta.get('updated_at'),
            'args': self.args,
            'error': self.meta.get('error'),
            # {task: error} of reverts that failed: what they should have
            # removed may be left in the cloud, tagged with the job id
            'failed_reverts': self.meta.get('failed_reverts') or {},
            # {task: error} of best-effort cleanups that failed after the
            # commit point: `job cleanup` removes what they left
            'failed_cleanups': self.meta.get('failed_cleanups') or {},
        }
        if self.claim and self.state in (states.RUNNING, states.REVERTING):
            job['owner'] = '%(host)s pid %(pid)s' % self.claim
        if self.flow_detail is not None:
            job['tasks'] = [{'name': ad.name, 'state': ad.state}
                            for ad in self.flow_detail]
        return job


def claim_alive(claim):
    """Whether the process holding ``claim`` (a claim row) still runs it:
    on this host, checked directly; on another, by its heartbeat."""
    if claim is None:
        return False
    if claim['host'] != socket.gethostname():
        return persistence.claim_age(claim) < CONF.engine.claim_timeout
    try:
        os.kill(claim['pid'], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return processes.start_time(claim['pid']) == claim['started']


def owner():
    pid = os.getpid()
    return {'host': socket.gethostname(), 'pid': pid,
            'started': processes.start_time(pid)}


def save_meta(backend, flow_detail, **changes):
    flow_detail.meta.update(changes)
    flow_detail.meta['updated_at'] = now()
    with contextlib.closing(backend.get_connection()) as conn:
        conn.update_flow_details(flow_detail)


def failed_reverts(flow_detail):
    """{atom name: error} of the reverts of a job that failed (their
    guarded revert returned the REVERT_FAILED marker)."""
    found = {}
    for atom in flow_detail:
        result = getattr(atom, 'revert_results', None)
        if isinstance(result, dict) and keys.REVERT_FAILED in result:
            found[atom.name] = result[keys.REVERT_FAILED]
    return found


def failed_cleanups(flow_detail):
    """{atom name: error} of the best-effort tasks of a job that failed
    (they returned the CLEANUP_FAILED marker)."""
    found = {}
    for atom in flow_detail:
        result = atom.results if atom.state == states.SUCCESS else None
        if isinstance(result, dict) and keys.CLEANUP_FAILED in result:
            found[atom.name] = result[keys.CLEANUP_FAILED]
    return found


def get_job(job_id):
    """The job ``job_id`` with its flow detail and atoms."""
    backend = persistence.get_backend()
    with contextlib.closing(backend.get_connection()) as conn:
        try:
            book = conn.get_logbook(job_id)
        except tf_exc.NotFound:
            raise exceptions.JobNotFound(job_id=job_id)
    flow_detail = book.find(job_id)
    if flow_detail is None:
        raise exceptions.JobNotFound(job_id=job_id)
    return Job.from_detail(flow_detail,
                           persistence.read_claim(backend, job_id))


def list_jobs():
    """Return every job, oldest first (without their atoms: two queries
    whatever the number of jobs)."""
    backend = persistence.get_backend()
    claims = persistence.read_claims(backend)
    jobs = [Job(uuid, state, meta, claims.get(uuid))
            for uuid, _name, state, meta
            in persistence.list_flow_details(backend)]
    return sorted(jobs, key=lambda job: job.meta.get('created_at') or '')


# Jobs `job purge` deletes: ended, and nothing of theirs left to clean up
# (`job cleanup` needs the record of a job whose revert or cleanup failed).
PURGEABLE_STATES = (states.SUCCESS, states.REVERTED)


def _ended_before(job, cutoff):
    stamp = job.meta.get('updated_at') or job.meta.get('created_at')
    return bool(stamp) and datetime.datetime.fromisoformat(stamp) < cutoff


def purge_jobs(older_than_days, dry_run=False):
    """Delete the records of jobs that ended ``older_than_days`` ago or
    more. Returns (purged, kept): the jobs deleted (or, with ``dry_run``,
    that would be) and the old ones kept, with why."""
    cutoff = (datetime.datetime.now(datetime.timezone.utc) -
              datetime.timedelta(days=older_than_days))
    purged, kept = [], []
    for job in list_jobs():
        if not _ended_before(job, cutoff):
            continue
        if job.state not in PURGEABLE_STATES:
            kept.append((job, 'it is %s' % job.state))
        elif job.meta.get('failed_reverts') or job.meta.get(
                'failed_cleanups'):
            kept.append((job, 'it left resources behind (job cleanup)'))
        else:
            purged.append(job)
    if not dry_run:
        persistence.delete_jobs(persistence.get_backend(),
                                [job.id for job in purged])
        LOG.info('Purged %d jobs that ended more than %d days ago',
                 len(purged), older_than_days)
    return purged, kept
