"""CLI category ``snapshot``."""

from backup_flows import exceptions
from backup_flows.cmd import common
from backup_flows.cmd.common import args
from backup_flows.operations import rollbacks
from backup_flows.operations import snapshots

_SET_FIELDS = ['id', 'name', 'server_id', 'status', 'consistency',
               'requested_consistency', 'downgrade_reason', 'created_at',
               'expires_at', 'image_id', 'volume_snapshots', 'job_id']
_LIST_COLUMNS = ['id', 'name', 'server_id', 'status', 'consistency',
                 'created_at', 'expires_at']


class SnapshotCommands:
    """Server snapshot sets: fast point-in-time captures in the cloud."""

    @args('server', metavar='SERVER', help='Server name or id.')
    # dest must not be "name": that is the category's own attribute.
    @args('--name', dest='set_name', metavar='NAME',
          help='Name of the snapshot set (default: server name and time).')
    @args('--quiesce', default='none', metavar='MODE',
          help='How the server is held still: %s. Default: none.'
               % common.QUIESCE_HELP)
    @args('--ttl', metavar='DURATION',
          help='Expire the set after this long (e.g. 12h, 7d).')
    @args('--require-consistency', action='store_true', default=False,
          help='Fail instead of downgrading when the quiesce mode cannot '
               'reach its consistency level.')
    def create(self, server, set_name=None, quiesce='none', ttl=None,
               require_consistency=False):
        """Snapshot a server's root disk and every attached volume."""
        result = snapshots.create(server, name=set_name,
                                  quiesce=common.quiesce_mode(quiesce),
                                  ttl=ttl,
                                  require_consistency=require_consistency)
        print_set(result)

    @args('--server', metavar='SERVER', help='Only this server\'s sets.')
    def list(self, server=None):
        """List snapshot sets, newest first."""
        common.print_list(snapshots.list_sets(server=server), _LIST_COLUMNS)

    @args('set_id', metavar='ID', help='Snapshot set id.')
    def show(self, set_id):
        """Show a snapshot set and its members."""
        result = snapshots.show(set_id)
        common.print_item(result, [f for f in _SET_FIELDS if f in result])

    @args('set_id', metavar='ID', help='Snapshot set id.')
    def delete(self, set_id):
        """Delete a snapshot set (its image and volume snapshots)."""
        common.print_item(snapshots.delete(set_id))

    @args('set_id', metavar='ID', help='Snapshot set id.')
    @args('--yes', action='store_true', default=False,
          help='Confirm: the disks lose every write made since the set.')
    @args('--no-safety-snapshot', action='store_true', default=False,
          help='Do not take a safety snapshot set of the server first. '
               'Faster, but a rollback that fails half-way or proves wrong '
               'cannot be undone.')
    @args('--safety-ttl', metavar='DURATION',
          help='Expire the safety set after this long (e.g. 12h, 7d; '
               'default: %s).' % rollbacks.DEFAULT_SAFETY_TTL)
    def rollback(self, set_id, yes=False, no_safety_snapshot=False,
                 safety_ttl=None):
        """Return a server's disks to a snapshot set (destroys newer data).

        A safety snapshot set of the server is taken first (its id is shown
        as safety_set_id): rolling back to it returns to the state before.
        """
        if not yes:
            raise exceptions.InvalidInput(
                reason='rollback overwrites the server\'s disks with the '
                       'snapshot set; add --yes to confirm')
        common.print_item(rollbacks.rollback(
            set_id, safety=not no_safety_snapshot, safety_ttl=safety_ttl))

    @args('--dry-run', action='store_true', default=False,
          help='Only list the sets that would be deleted.')
    def expire(self, dry_run=False):
        """Delete every snapshot set past its expiry time."""
        print_expired(snapshots.expire(dry_run=dry_run))


def print_set(result):
    """Print a snapshot set as ``snapshot create`` does."""
    common.print_item(result, [f for f in _SET_FIELDS if f in result])


def print_expired(rows):
    """Print expired sets as ``snapshot expire`` does."""
    common.print_list(rows, ['id', 'server_id', 'expires_at', 'action'])
