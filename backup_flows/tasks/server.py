"""Tasks acting on Nova servers."""

import time

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import tags
from backup_flows.cloud import resources
from backup_flows.cloud import servers
from backup_flows.cloud import waits
from backup_flows.tasks import base

LOG = logging.getLogger(__name__)

# Statuses a flow can start from; any other (ERROR, BUILD, a task running)
# is refused before anything is created.
STABLE_STATUSES = servers.STABLE_STATUSES


def get_server(conn, server_id):
    try:
        return conn.compute.get_server(server_id)
    except sdk_exc.NotFoundException:
        raise exceptions.ServerNotFound(server=server_id,
                                        cloud=conn.config.name)


def wait_for_server_idle(conn, server_id):
    """Wait until no Nova task (snapshot, reboot...) runs on the server."""
    return waits.wait_for(
        'Server', server_id, lambda: conn.compute.get_server(server_id),
        lambda srv: not srv.task_state, failed=('error',))


def wait_for_server_status(conn, server_id, status):
    return waits.wait_for(
        'Server', server_id, lambda: conn.compute.get_server(server_id),
        lambda srv: srv.status == status and not srv.task_state,
        failed=('error',))


# Seconds during which the facts planning read stand for the server's
# state: a job's first run starts well within it, a resumed one never.
PLANNED_FACTS_FRESH = 10.0


class CheckServerReady(base.BackupFlowsTask):
    """Check the server exists, is stable and record its prior state.

    Right after planning checked the server (``planned_at`` less than
    ``PLANNED_FACTS_FRESH`` seconds ago) the planned status is recorded
    without reading the server again; a resumed job reads it.

    Reversion strategy: nothing to undo (reads only).
    """

    default_provides = keys.SERVER_STATE

    def execute(self, cloud, server_id, planned_status=None,
                planned_at=None):
        """``planned_status``: the status the job's consistency was planned
        from; a server that left it since is refused (plan again)."""
        if (planned_status and planned_at is not None and
                0 <= time.time() - planned_at < PLANNED_FACTS_FRESH):
            return {'status': planned_status}
        server = get_server(clients.connect(cloud), server_id)
        if server.status not in STABLE_STATUSES or server.task_state:
            raise exceptions.InvalidServerState(
                server=server_id,
                state='%s/%s' % (server.status, server.task_state),
                action=self.name,
                expected=', '.join(STABLE_STATUSES) + ' with no task')
        if planned_status and server.status != planned_status:
            raise exceptions.InvalidServerState(
                server=server_id, state=server.status, action=self.name,
                expected='%s, as when the job was planned (run the '
                         'command again)' % planned_status)
        return {'status': server.status}


class _ChangePowerState(base.BackupFlowsTask):
    """Move a server from one status to another through a server action."""

    #: (status the server must have before, action name, status after)
    from_status = to_status = action = None

    def _act(self, cloud, server_id, action, target):
        conn = clients.connect(cloud)
        server = wait_for_server_idle(conn, server_id)
        if server.status != target:
            LOG.info('%s server %s', action, server_id)
            getattr(conn.compute, action + '_server')(server_id)
            wait_for_server_status(conn, server_id, target)

    def execute(self, cloud, server_id, server_state):
        if server_state['status'] == self.from_status:
            self._act(cloud, server_id, self.action, self.to_status)


class _UndoablePowerChange(_ChangePowerState):
    undo_action = None

    def revert(self, result, cloud, server_id, server_state, **kwargs):
        if server_state['status'] != self.from_status:
            return
        self._act(cloud, server_id, self.undo_action, self.from_status)


class PauseServer(_UndoablePowerChange):
    """Pause the server when it was running.

    Reversion strategy: unpause it when it was running before the flow.
    """

    from_status, action, to_status = 'ACTIVE', 'pause', 'PAUSED'
    undo_action = 'unpause'


class UnpauseServer(_ChangePowerState):
    """Unpause the server when it was running before the flow.

    Reversion strategy: nothing; a server left running needs no undo.
    """

    from_status, action, to_status = 'ACTIVE', 'unpause', 'ACTIVE'


class StopServer(_UndoablePowerChange):
    """Shut the server down when it was running.

    Reversion strategy: start it again when it was running before the flow.
    """

    from_status, action, to_status = 'ACTIVE', 'stop', 'SHUTOFF'
    undo_action = 'start'


class StartServer(_ChangePowerState):
    """Start the server when it was running before the flow.

    Reversion strategy: nothing; a server left running needs no undo.
    """

    from_status, action, to_status = 'ACTIVE', 'start', 'ACTIVE'


class RebuildServer(base.BackupFlowsTask):
    """Rebuild the server's root disk from an image, wait until it is done.

    Nova keeps the server's id, ports and volumes; a server shut down before
    stays shut down.

    Reversion strategy: none possible (the previous root disk is gone); the
    rollback flow checks everything it can before this task.
    """

    def execute(self, cloud, server_id, image_id):
        conn = clients.connect(cloud)
        LOG.info('Rebuilding server %s from image %s', server_id, image_id)
        conn.compute.rebuild_server(server_id, image=image_id)
        # Nova's API marks the server REBUILDING before it answers.
        wait_for_server_idle(conn, server_id)


# -- restored servers ---------------------------------------------------------
#
# A server a flow creates carries the job id in its metadata (tags.JOB_ID):
# a resumed task adopts it instead of creating a second one, and a leak
# check finds it (backup_flows.cloud.resources).


class CreateServer(base.BackupFlowsTask):
    """Create a server from restored disks.

    ``spec`` (injected) is ``{'name', 'flavor_id', 'networks',
    'availability_zone'?, 'security_groups', 'key_name'?, 'metadata',
    'tags', 'root': {'kind': 'image'|'volume', 'key'}, 'volumes': [{'key',
    'device'?}]}``; ``root['key']`` and each ``volumes[].key`` name the
    store entries holding the restored image or volume ids (required
    through ``requires``). The root is the image (image-backed server) or
    a boot volume (block device with boot index 0); data volumes are
    attached at boot and survive the server's deletion. The server carries
    the job id in its metadata; run again after a crash, the task adopts
    the server it already asked for.

    Reversion strategy: delete every server of this job, wait until it is
    gone and until Nova released the restored volumes, so that the volume
    tasks' reverts can delete them.
    """

    default_provides = keys.SERVER_ID

    def execute(self, cloud, job_id, spec, **disk_ids):
        conn = clients.connect(cloud)
        adopted = base.adopt(
            'server', resources.servers_of_job(conn, job_id, spec['name']))
        if adopted:
            return adopted
        attrs = {'name': spec['name'], 'flavor_id': spec['flavor_id'],
                 'networks': spec['networks'],
                 'metadata': dict(spec.get('metadata') or {},
                                  **{tags.JOB_ID: job_id})}
        for key in ('availability_zone', 'key_name'):
            if spec.get(key):
                attrs[key] = spec[key]
        if spec.get('security_groups'):
            attrs['security_groups'] = [{'name': name}
                                        for name in spec['security_groups']]
        if spec.get('tags'):
            attrs['tags'] = list(spec['tags'])
        root = spec['root']
        devices = []
        if root['kind'] == 'image':
            attrs['image_id'] = disk_ids[root['key']]
            # With block devices, Nova wants the image's one too.
            devices.append({'boot_index': 0,
                            'uuid': disk_ids[root['key']],
                            'source_type': 'image',
                            'destination_type': 'local',
                            'delete_on_termination': True})
        else:
            devices.append({'boot_index': 0,
                            'uuid': disk_ids[root['key']],
                            'source_type': 'volume',
                            'destination_type': 'volume',
                            'delete_on_termination': False})
        for volume in spec.get('volumes') or []:
            devices.append({'boot_index': -1,
                            'uuid': disk_ids[volume['key']],
                            'source_type': 'volume',
                            'destination_type': 'volume',
                            'delete_on_termination': False})
        if devices[1:] or root['kind'] != 'image':
            attrs['block_device_mapping'] = devices
        server = conn.compute.create_server(**attrs)
        LOG.info('Creating server %s (%s)', server.id, spec['name'])
        return server.id

    def revert(self, result, cloud, job_id, spec, **kwargs):
        conn = clients.connect(cloud)
        ids = base.delete_found(
            'server', resources.servers_of_job(conn, job_id, spec['name']),
            result, lambda server_id: resources.delete_server(conn,
                                                              server_id))
        volume_keys = [vol['key'] for vol in spec.get('volumes') or []]
        if spec['root']['kind'] == 'volume':
            volume_keys.append(spec['root']['key'])
        for key in volume_keys if ids else ():
            if kwargs.get(key):
                resources.wait_volume_released(conn, kwargs[key])


class WaitForServerActive(base.BackupFlowsTask):
    """Wait until a new server is ACTIVE; fail with Nova's fault if not.

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, server_id):
        conn = clients.connect(cloud)
        try:
            wait_for_server_status(conn, server_id, 'ACTIVE')
        except exceptions.ResourceFailed:
            fault = (conn.compute.get_server(server_id).fault or {})
            raise exceptions.ResourceFailed(
                kind='Server', ident=server_id,
                status='ERROR (%s)' % (fault.get('message') or 'no fault'))


class DeleteServer(base.BackupFlowsTask):
    """Delete a server a flow created; wait until it is gone and Nova
    released its volumes.

    The volumes' ids are the store entries named in ``requires`` (the
    server's restored volumes): they survive the server, and tasks after
    this one read or delete them.

    Reversion strategy: none possible (a deleted server cannot come back);
    it deletes only a throw-away server (a drill's).
    """

    def execute(self, cloud, server_id, **volume_ids):
        conn = clients.connect(cloud)
        LOG.info('Deleting server %s', server_id)
        resources.delete_server(conn, server_id)
        for volume_id in sorted(volume_ids.values()):
            resources.wait_volume_released(conn, volume_id)
