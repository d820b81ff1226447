"""Tasks acting on Nova servers."""

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import waits
from backup_flows.tasks import base

LOG = logging.getLogger(__name__)

# Statuses a flow can start from; any other (ERROR, BUILD, a task running)
# is refused before anything is created.
STABLE_STATUSES = ('ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED')


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


class CheckServerReady(base.BackupFlowsTask):
    """Check the server exists, is stable and record its prior state.

    Reversion strategy: nothing to undo (reads only).
    """

    default_provides = keys.SERVER_STATE

    def execute(self, cloud, server_id):
        server = get_server(clients.connect(cloud), server_id)
        if server.status not in STABLE_STATUSES or server.task_state:
            raise exceptions.InvalidServerState(
                server=server_id,
                state='%s/%s' % (server.status, server.task_state),
                action=self.name,
                expected=', '.join(STABLE_STATUSES) + ' with no task')
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
        try:
            self._act(cloud, server_id, self.undo_action, self.from_status)
        except Exception:
            LOG.exception('Could not return server %s to %s', server_id,
                          self.from_status)


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


class WaitForServerTaskIdle(base.BackupFlowsTask):
    """Wait until Nova finished a task on the server (e.g. took its image).

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, server_id):
        wait_for_server_idle(clients.connect(cloud), server_id)


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
