"""CLI category ``backup``: the lifecycle of server backups (create, list,
show, verify, restore, delete, prune)."""

from backup_flows.cmd import common
from backup_flows.cmd import restore as restore_cmd
from backup_flows.cmd.common import args
from backup_flows.operations import backups
from backup_flows.operations import drills

_FIELDS = ['id', 'server_id', 'server_name', 'created_at', 'consistency',
           'status', 'repository', 'tags', 'disks', 'skipped_disks',
           'job_id']
_LIST_COLUMNS = ['id', 'server_id', 'server_name', 'created_at',
                 'consistency', 'status']


def _repository_arg():
    # dest must not be "repository": that is the name of an option group.
    return args('--repository', dest='url', metavar='URL',
                help='Repository URL (default: [repository] url, else '
                     '$state_path/repository).')


def _transient_set_cell(report):
    if report['deleted']:
        return '%s: deleted' % report['id']
    return ('%s: not fully deleted (%s); run `job cleanup`'
            % (report['id'], '; '.join('%s: %s' % item for item in
                                       sorted(report['errors'].items()))))


def _disks_cell(result):
    if 'transient_set' in result:
        result = dict(result, transient_set=_transient_set_cell(
            result['transient_set']))
    return dict(result, disks=['%(name)s: %(size)d bytes, %(checksum)s, '
                               '%(stored_bytes)s bytes stored' % d
                               for d in result.get('disks', [])])


def print_created(result):
    """Print a backup as ``backup create`` does (also ``job resume``)."""
    common.print_item(_disks_cell(result) if not common.json_output()
                      else result, _FIELDS + ['transient_set'])


class BackupCommands:
    """Server backups: every disk and the server's definition, kept in an
    independent, deduplicated repository."""

    @args('server', metavar='SERVER', help='Server name or id.')
    @_repository_arg()
    @args('--quiesce', metavar='MODE',
          help='How the server is held still while its transient snapshot '
               'is taken: %s (default: [backup] quiesce, pause).'
               % common.QUIESCE_HELP)
    @args('--tag', dest='tags', action='append', metavar='TAG',
          help='Tag the backup (repeatable).')
    @args('--require-consistency', dest='require_consistency',
          action='store_true', default=False,
          help='Fail instead of recording a lower consistency level when '
               'the quiesce mode cannot reach its own (e.g. the guest agent '
               'did not freeze the filesystems).')
    def create(self, server, url=None, quiesce=None, tags=None,
               require_consistency=False):
        """Back up a server: root disk, every volume and its definition."""
        result = backups.create(server, url=common.url(url),
                                quiesce=common.quiesce_mode(quiesce),
                                tags=tags or (),
                                require_consistency=require_consistency)
        print_created(result)

    @args('--server', metavar='SERVER',
          help='Only this server\'s backups (name, or id also of a deleted '
               'server).')
    @_repository_arg()
    def list(self, server=None, url=None):
        """List backups, oldest first (damaged ones too)."""
        common.print_list(
            backups.list_backups(server=server, url=common.url(url)),
            _LIST_COLUMNS)

    @args('backup_id', metavar='ID', help='Backup id.')
    @_repository_arg()
    def show(self, backup_id, url=None):
        """Show a backup: server, consistency and every disk."""
        result = backups.show(backup_id, url=common.url(url))
        common.print_item(_disks_cell(result) if not common.json_output()
                          else result, _FIELDS)

    @args('backup_id', metavar='ID', help='Backup id.')
    @_repository_arg()
    def delete(self, backup_id, url=None):
        """Delete a backup (its data is reclaimed by prune or gc)."""
        common.print_item(backups.delete(backup_id, url=common.url(url)))

    @args('backup_id', metavar='ID', help='Backup id.')
    @_repository_arg()
    @args('--deep', action='store_true', default=False,
          help='Read back every disk and check every chunk and checksum.')
    @args('--drill', action='store_true', default=False,
          help='Then restore the backup onto a throw-away server, read its '
               'disks back through the cloud and compare them with the '
               'backup; the server, its volumes and image are deleted.')
    def verify(self, backup_id, url=None, deep=False, drill=False):
        """Verify a backup; exit 1 naming the damaged disks if any (with
        --format json, the problems are printed too)."""
        if drill:
            result = drills.verify(backup_id, url=common.url(url), deep=deep)
        else:
            result = backups.verify(backup_id, url=common.url(url), deep=deep)
        common.print_item(result)

    @restore_cmd.restore_command
    def restore(self, backup_id, server_name=None, flavor=None,
                networks=None, availability_zone=None, volume_type=None,
                target_cloud=None, repository_url=None):
        # the help is restore_cmd.DESCRIPTION
        restore_cmd.restore(backup_id, server_name=server_name,
                            flavor=flavor, networks=networks,
                            availability_zone=availability_zone,
                            volume_type=volume_type,
                            target_cloud=target_cloud,
                            repository_url=repository_url)

    @args('--server', metavar='SERVER',
          help='Apply the policy to this server\'s backups only.')
    @_repository_arg()
    @common.retention_args
    @args('--dry-run', action='store_true', default=False,
          help='Only show what would be forgotten and freed.')
    def prune(self, server=None, url=None, dry_run=False, **keep):
        """Forget backups by retention policy, per server (default:
        [backup] keep_*), then reclaim the data no backup uses (as
        "repository gc")."""
        policy = backups.policy_from(**common.retention(**keep))
        result = backups.prune(policy, server=server, url=common.url(url),
                               dry_run=dry_run)
        common.print_item(result)
