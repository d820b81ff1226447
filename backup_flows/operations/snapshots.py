"""Snapshot operations: plan from the cloud's facts, then run a flow.

The CLI (and later the API) call these; each checks its input and the cloud
before anything is created, so bad input fails with nothing left behind.
"""

import datetime
import re
import time

from oslo_log import log as logging
from oslo_utils import uuidutils

from backup_flows import clients
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import plugins
from backup_flows import tags
from backup_flows.cloud import servers
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.engine import persistence

LOG = logging.getLogger(__name__)

_DURATION = re.compile(r'^\s*(\d+)\s*([smhdw]?)\s*$')
_UNIT_SECONDS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400,
                 'w': 604800}


def parse_duration(text):
    """Seconds in ``text`` such as ``90``, ``30m``, ``12h``, ``7d``, ``2w``."""
    match = _DURATION.match(text or '')
    if not match or int(match.group(1)) == 0:
        raise exceptions.InvalidInput(
            reason='%r is not a duration; use a positive number with an '
                   'optional unit s, m, h, d or w (e.g. 12h, 7d)' % text)
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0)


def create(server, name=None, quiesce='none', ttl=None,
           require_consistency=False, cloud=None):
    """Take a snapshot set of ``server``; return the set as a dict."""
    ttl_seconds = parse_duration(ttl) if ttl is not None else None
    strategy = plugins.load_quiesce(quiesce)
    persistence.open_backend_in_background()
    conn = clients.check_cloud(cloud)
    planned_at = time.time()
    facts = servers.describe(conn, server)
    servers.check_stable(facts, 'snapshot')
    plan = strategy.plan(facts, require_consistency)
    now = _utcnow()
    job_id = uuidutils.generate_uuid()
    set_id = uuidutils.generate_uuid()
    set_name = name or '%s-%s' % (facts['name'],
                                  now.strftime('%Y%m%dT%H%M%SZ'))
    set_meta = {
        'set_id': set_id,
        'job_id': job_id,
        'name': set_name,
        'image_name': set_name,
        'server_id': facts['id'],
        'consistency': plan['consistency'],
        'requested_consistency': plan['requested'],
        'created_at': now.isoformat(),
        'expires_at': ((now + datetime.timedelta(seconds=ttl_seconds))
                       .isoformat() if ttl_seconds else None),
        'members': 1 + len(facts['volumes']),
    }
    flow_args = {'root': facts['root'], 'volumes': facts['volumes'],
                 'quiesce': plan['mode'], 'planned_status': plan['status']}
    store = {keys.CLOUD: clients.resolved_cloud(cloud),
             keys.PLANNED_AT: planned_at,
             keys.SERVER_ID: facts['id'], keys.SET_META: set_meta}
    LOG.info('Snapshot set %s of server %s: %s consistency (%s)',
             set_id, facts['id'], plan['consistency'], plan['mode'])
    _, result = engine.run_flow(keys.FLOW_SNAPSHOT_CREATE, flow_args, store,
                                job_id=job_id)
    snapshot = result[keys.RESULT]
    if plan['downgrade']:
        snapshot['downgrade_reason'] = plan['downgrade']
    return snapshot


def list_sets(server=None, cloud=None):
    conn = clients.check_cloud(cloud)
    server_id = servers.find_server(conn, server).id if server else None
    return [s.to_dict() for s in sets.list_sets(conn, server_id=server_id)]


def show(set_id, cloud=None):
    conn = clients.check_cloud(cloud)
    return sets.get_set(conn, set_id).to_dict()


def _delete(conn, snapshot_set, cloud):
    flow_args = {'image_ids': [m['id'] for m in snapshot_set.images],
                 'snapshot_ids': [m['id'] for m in snapshot_set.snapshots]}
    store = {keys.CLOUD: clients.resolved_cloud(cloud),
             keys.SET_ID: snapshot_set.id}
    engine.run_flow(keys.FLOW_SNAPSHOT_DELETE, flow_args, store)


def delete(set_id, cloud=None):
    conn = clients.check_cloud(cloud)
    snapshot_set = sets.get_set(conn, set_id)
    _delete(conn, snapshot_set, cloud)
    return {'id': set_id, 'status': 'deleted'}


def expire(dry_run=False, cloud=None):
    """Delete every set past its expiry time (one ``snapshot-expire`` job
    for all of them); return what was (or would be) deleted."""
    conn = clients.check_cloud(cloud)
    now = _utcnow()
    expired = [s for s in sets.list_sets(conn) if s.expired(now)]
    rows = [{'id': s.id, 'server_id': s.server_id,
             'expires_at': s.meta.get(tags.EXPIRES_AT),
             'action': 'would delete' if dry_run else 'deleted'}
            for s in expired]
    if dry_run or not expired:
        return rows
    flow_args = {'sets': [
        {'set_id': s.id, 'image_ids': [m['id'] for m in s.images],
         'snapshot_ids': [m['id'] for m in s.snapshots]} for s in expired]}
    job_id, _ = engine.run_flow(keys.FLOW_SNAPSHOT_EXPIRE, flow_args,
                                {keys.CLOUD: clients.resolved_cloud(cloud)})
    return [dict(row, job_id=job_id) for row in rows]
