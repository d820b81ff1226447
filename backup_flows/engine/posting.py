"""Jobs posted to the jobboard: posting one, and waiting for its end.

Posting returns at once; a caller that wants the outcome (the admin CLI
with ``[engine] mode = jobboard``) watches the job's persisted state, not
the board: the flow detail tells when a conductor ended it and how.
"""

import time

from oslo_log import log as logging
from taskflow import states
import taskflow.engines

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows.engine import jobs

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

ENDED_STATES = (states.SUCCESS, states.REVERTED, states.FAILURE)


def post(backend, book, flow_name, store):
    """Post the job saved as ``book`` (one flow detail of the same id)."""
    # imported here: the Redis client is only needed by posters
    from backup_flows.engine import boards

    with boards.connected(backend) as board:
        board.post(flow_name, book=book,
                   details={'store': store, 'flow_uuid': book.uuid})


def wait_for_job(job_id):
    """Wait until a conductor ends the job; return its store as
    :func:`backup_flows.engine.run_flow` does, or raise what it raised."""
    try:
        while True:
            job = jobs.get_job(job_id)
            if job.meta.get('gave_up'):
                raise exceptions.JobGaveUp(job_id=job_id,
                                           reason=job.meta.get('error'))
            if job.raw_state in ENDED_STATES and job.meta.get('ended_at'):
                return _outcome(job)
            time.sleep(CONF.jobboard.poll_interval)
    except KeyboardInterrupt:
        raise exceptions.JobNotWaitedFor(job_id=job_id) from None


def _outcome(job):
    failure = job.meta.get('failure')
    if failure:
        error = exceptions.BackupFlowsError(failure['message'])
        error.exit_code = failure['exit_code']
        raise error
    return stored_values(job.flow_detail)


def stored_values(flow_detail):
    """Every value in the store of a job that succeeded (what
    ``engine.storage.fetch_all()`` gives after its run), read from a copy
    of its flow detail: the persisted job is left as it is."""
    flow = taskflow.engines.flow_from_detail(flow_detail)
    engine = taskflow.engines.load(flow, flow_detail=flow_detail.copy())
    engine.compile()
    engine.prepare()
    return engine.storage.fetch_all()
