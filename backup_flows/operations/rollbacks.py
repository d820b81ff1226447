"""Rollback: return a server's disks to a snapshot set, with a way back.

:func:`rollback` checks everything it can first (bad input creates
nothing), then takes a *safety set* of the server as it is (unless told not
to), then runs the ``snapshot-rollback`` flow.

Cinder reverts a volume only to its newest snapshot (its API refuses any
other), and the safety set's snapshot of a volume is newer than the target
set's. So before it reverts anything the flow copies the safety snapshot
of each volume to revert into an image of the safety set and deletes the
snapshot. Rolling back to a set holding such an image re-images the volume
from it, in place (Cinder's volume re-image, API 3.68). The cost: each
reverted volume's bytes are copied twice (snapshot to a temporary volume,
that volume to Glance) before the rollback, and once more on the way back;
Glance holds them until the safety set expires.

Reverting a volume and rebuilding the root disk cannot be undone. When the
flow fails after one of them, the error names what changed and how to
return (roll back to the safety set); when it fails before, the server is
as it was and the safety set, of no more use, is deleted.
"""

from openstack import utils as sdk_utils
from oslo_log import log as logging
from oslo_utils import uuidutils
from taskflow import states

from backup_flows import clients
from backup_flows import engine
from backup_flows import exceptions
from backup_flows import faults
from backup_flows import keys
from backup_flows import tags
from backup_flows.cloud import servers
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.flows import rollback as rollback_flow
from backup_flows.operations import snapshots

LOG = logging.getLogger(__name__)

DEFAULT_SAFETY_TTL = '1d'
# Every disk at one instant; the server is not stopped twice.
SAFETY_QUIESCE = 'pause'

# Outcome of an irreversible task of a failed job.
CHANGED, MAYBE_CHANGED = 'changed', 'maybe changed'


def rollback(set_id, safety=True, safety_ttl=None, cloud=None):
    """Return the set's server to the set's bytes; return what was done.

    :param safety: take a safety set of the server first, the way back
        should the rollback fail half-way or prove wrong.
    :param safety_ttl: the safety set's time to live (a duration such as
        ``12h``; default one day).
    :raises: RollbackIncomplete when the flow failed after it changed a
        disk; the other errors when nothing was changed.
    """
    if safety_ttl is not None and not safety:
        raise exceptions.InvalidInput(
            reason='--safety-ttl is the time to live of the safety set; it '
                   'cannot be combined with --no-safety-snapshot')
    ttl = safety_ttl or DEFAULT_SAFETY_TTL
    if safety:
        snapshots.parse_duration(ttl)
    conn = clients.check_cloud(cloud)
    snapshot_set = sets.get_set(conn, set_id)
    facts, volumes = _plan(conn, snapshot_set)
    _check_reimage(conn, snapshot_set, volumes, safety)
    safety_set = (_take_safety_set(snapshot_set, facts['id'], ttl, cloud)
                  if safety else None)
    flow_args = {'image_id': snapshot_set.root_image_id, 'volumes': volumes,
                 'safety': _safety_args(safety_set, volumes)}
    job_id = uuidutils.generate_uuid()
    store = {keys.CLOUD: clients.resolved_cloud(cloud),
             keys.SERVER_ID: facts['id'], keys.JOB_ID: job_id}
    try:
        engine.run_flow(keys.FLOW_SNAPSHOT_ROLLBACK, flow_args, store,
                        job_id=job_id)
    except exceptions.JobInterrupted:
        raise
    except exceptions.BackupFlowsError as exc:
        _failed(exc, job_id, snapshot_set, facts['id'], flow_args,
                safety_set, cloud)
    return {'id': set_id, 'server_id': facts['id'], 'job_id': job_id,
            'image_id': snapshot_set.root_image_id,
            'volumes': [v['volume_id'] for v in volumes],
            'safety_set_id': safety_set['id'] if safety_set else None,
            'status': 'rolled back'}


def _plan(conn, snapshot_set):
    """(server facts, the flow's ``volumes``) once the set and its server
    are checked; InvalidInput or InvalidServerState otherwise."""
    set_id = snapshot_set.id
    if snapshot_set.status != tags.STATUS_AVAILABLE:
        raise exceptions.InvalidInput(
            reason='snapshot set %s is %s; only a complete, available set '
                   'can be rolled back' % (set_id, snapshot_set.status))
    try:
        facts = servers.describe(conn, snapshot_set.server_id)
    except exceptions.ServerNotFound:
        raise exceptions.InvalidInput(
            reason='server %s of snapshot set %s no longer exists'
                   % (snapshot_set.server_id, set_id))
    if facts['status'] not in ('ACTIVE', 'SHUTOFF') or facts['task_state']:
        raise exceptions.InvalidServerState(
            server=facts['id'],
            state='%s/%s' % (facts['status'], facts['task_state']),
            action='rollback', expected='ACTIVE, SHUTOFF')
    attached = {v['volume_id']: v for v in facts['volumes']}
    volumes = []
    for vid, member in _volume_members(conn, snapshot_set).items():
        if vid not in attached:
            raise exceptions.InvalidInput(
                reason='volume %s of snapshot set %s is no longer attached '
                       'to server %s' % (vid, set_id, facts['id']))
        volume = {'volume_id': vid, 'device': attached[vid]['device']}
        current = conn.block_storage.get_volume(vid)
        if member.get('image_id'):
            volume.update(image_id=member['image_id'],
                          bootable=bool(current.is_bootable),
                          image_metadata=dict(
                              current.volume_image_metadata or {}))
        else:
            _check_latest_snapshot(conn, vid, member['snapshot_id'])
            # size_gb: of the temporary volume of its safety image
            volume.update(snapshot_id=member['snapshot_id'],
                          size_gb=current.size)
        volumes.append(volume)
    return facts, sorted(volumes, key=lambda v: v['device'] or '')


def _volume_members(conn, snapshot_set):
    """{volume id: {'snapshot_id'} or {'image_id'}}: what the set holds of
    each volume. An image standing in for a volume's snapshot (a safety
    set's) wins over a snapshot left by an interrupted job: it can always
    be applied."""
    members = {}
    for member in snapshot_set.snapshots:
        if member['role'] == tags.ROLE_ROOT_VOLUME:
            raise exceptions.InvalidInput(
                reason='rolling back the boot volume of a boot-from-volume '
                       'server is not supported')
        members[member['volume_id']] = {'snapshot_id': member['id']}
    for image, props in sets.member_images(conn, set_id=snapshot_set.id):
        if props.get(tags.ROLE) == tags.ROLE_VOLUME:
            members[props.get(tags.VOLUME_ID)] = {'image_id': image.id}
    return members


def _check_latest_snapshot(conn, volume_id, snapshot_id):
    """Cinder reverts a volume only to its most recent snapshot."""
    # Cinder refuses a volume_id filter for non-admin users: filter here.
    snaps = sorted((s for s in conn.block_storage.snapshots(details=True)
                    if s.volume_id == volume_id),
                   key=lambda s: s.created_at or '')
    if snaps and snaps[-1].id != snapshot_id:
        raise exceptions.InvalidInput(
            reason='volume %s has a snapshot newer than this set (%s); '
                   'Cinder reverts only to the newest one: roll back to '
                   'the newest set or delete it first'
                   % (volume_id, snaps[-1].id))


def _check_reimage(conn, snapshot_set, volumes, safety):
    """Volumes held as images are restored by Cinder's re-image: refuse
    (before anything is created) a set that needs it, or a safety set
    that would, on a cloud without it."""
    needed = any(v.get('image_id') for v in volumes)
    would_need = safety and any(v.get('snapshot_id') for v in volumes)
    if not (needed or would_need) or sdk_utils.supports_microversion(
            conn.block_storage, servers.REIMAGE_MICROVERSION):
        return
    if needed:
        reason = ('snapshot set %s holds volumes as images, restored by '
                  'Cinder\'s volume re-image (API %s), which this cloud '
                  'does not offer' % (snapshot_set.id,
                                      servers.REIMAGE_MICROVERSION))
    else:
        reason = ('a safety set would hold the volumes as images, restored '
                  'by Cinder\'s volume re-image (API %s), which this cloud '
                  'does not offer; roll back without one '
                  '(--no-safety-snapshot)'
                  % servers.REIMAGE_MICROVERSION)
    raise exceptions.InvalidInput(reason=reason)


def _take_safety_set(snapshot_set, server_id, ttl, cloud):
    """A snapshot set of the server as it is (a dict, as ``snapshot
    show`` prints it)."""
    name = tags.SAFETY_SET_NAME % (snapshot_set.meta.get(tags.NAME) or
                                   snapshot_set.id)
    try:
        safety_set = snapshots.create(server_id, name=name,
                                      quiesce=SAFETY_QUIESCE, ttl=ttl,
                                      cloud=cloud)
    except exceptions.JobInterrupted:
        raise
    except exceptions.BackupFlowsError as exc:
        raise exceptions.SafetySetFailed(server=server_id,
                                         reason=exc) from exc
    LOG.info('Safety set %s of server %s taken', safety_set['id'],
             server_id)
    return safety_set


def _safety_args(safety_set, volumes):
    """The flow's ``safety``: the safety set's snapshots of the volumes to
    revert (those to turn into images), or None without a safety set."""
    if safety_set is None:
        return None
    sizes = {v['volume_id']: v['size_gb'] for v in volumes
             if v.get('snapshot_id')}
    return {'set_id': safety_set['id'], 'volumes': [
        {'volume_id': snap['volume_id'], 'snapshot_id': snap['id'],
         'size_gb': sizes[snap['volume_id']]}
        for snap in safety_set['volume_snapshots']
        if snap['volume_id'] in sizes]}


def _failed(error, job_id, snapshot_set, server_id, flow_args, safety_set,
            cloud):
    """Raise the error of a failed rollback job: ``error`` itself when the
    job changed no disk (the safety set is then deleted), else
    RollbackIncomplete naming what changed and the way back."""
    try:
        flow_detail = engine.get_job(job_id).flow_detail
    except exceptions.JobNotFound:
        # the job was never saved: it ran nothing
        flow_detail = None
    outcomes = _outcomes(flow_detail or (), flow_args)
    if not any(outcomes.values()):
        if safety_set:
            _delete_safety_set(safety_set['id'], cloud)
        raise error
    reason = flow_detail.meta.get('error') or str(error)
    failed = engine.failed_reverts(flow_detail)
    if failed:
        reason += '; the revert of %s failed' % ', '.join(sorted(failed))
    kwargs = {'server': server_id, 'set_id': snapshot_set.id,
              'job_id': job_id, 'reason': reason,
              'changed': _describe_changes(outcomes, flow_args)}
    if safety_set:
        raise exceptions.RollbackIncomplete(
            safety_set_id=safety_set['id'], **kwargs) from error
    raise exceptions.RollbackIncompleteWithoutSafety(**kwargs) from error


def _outcomes(flow_detail, flow_args):
    """{irreversible atom name: CHANGED, MAYBE_CHANGED or None} of a job."""
    atoms = {atom.name: atom for atom in flow_detail}
    return {name: _outcome(atoms.get(name)) for name in
            rollback_flow.irreversible_atoms(flow_args['image_id'],
                                             flow_args['volumes'])}


def _outcome(atom):
    if atom is None or atom.state in (None, states.PENDING):
        return None
    if atom.failure is None:
        # it ran to its end (its "revert" since did nothing)
        return CHANGED
    if atom.failure.check(faults.InjectedFailure):
        # a test's failure, raised before the task did anything
        return None
    return MAYBE_CHANGED


def _describe_changes(outcomes, flow_args):
    """What a failed rollback changed, as one phrase per disk."""
    parts = []
    for volume in flow_args['volumes']:
        outcome = outcomes.get(rollback_flow.restore_volume_atom(volume))
        parts.append('volume %s %s' % (volume['volume_id'], {
            CHANGED: 'reverted to the set',
            MAYBE_CHANGED: 'may be partly reverted (its revert failed)',
            None: 'not reverted'}[outcome]))
    if flow_args['image_id']:
        parts.append({
            CHANGED: 'root disk rebuilt from image %s' % flow_args['image_id'],
            MAYBE_CHANGED: 'root disk may be partly rebuilt (the rebuild '
                           'failed)',
            None: 'root disk not rebuilt'}[
                outcomes.get(rollback_flow.REBUILD_SERVER)])
    return ', '.join(parts)


def _delete_safety_set(set_id, cloud):
    try:
        snapshots.delete(set_id, cloud=cloud)
        LOG.info('Deleted safety set %s: the rollback changed nothing',
                 set_id)
    except Exception as exc:
        # Cleanup after a failure: the failure is what to report.
        LOG.warning('Could not delete safety set %s (%s); delete it with '
                    '"backup-flows-manage snapshot delete %s"', set_id, exc,
                    set_id)
