"""CLI category ``backup``: server backups in the repository."""

from backup_flows.cmd import common
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


class BackupCommands:
    """Server backups: every disk and the server's definition, kept in an
    independent, deduplicated repository."""

    @args('server', metavar='SERVER', help='Server name or id.')
    @_repository_arg()
    @args('--quiesce', metavar='MODE',
          help='How the server is held still while its transient snapshot '
               'is taken: none, pause, guest-agent, stop (default: '
               '[backup] quiesce, pause).')
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
        result = backups.create(server, url=common.url(url), quiesce=quiesce,
                                tags=tags or (),
                                require_consistency=require_consistency)
        common.print_item(_disks_cell(result) if not common.json_output()
                          else result, _FIELDS + ['transient_set'])

    @args('--server', metavar='SERVER',
          help='Only this server\'s backups (name, or id also of a deleted '
               'server).')
    @_repository_arg()
    def list(self, server=None, url=None):
        """List backups, oldest first."""
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
        """Delete a backup (its data is reclaimed by prune)."""
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
        """Verify a backup; exit 1 naming the damaged disks if any."""
        if drill:
            result = drills.verify(backup_id, url=common.url(url), deep=deep)
        else:
            result = backups.verify(backup_id, url=common.url(url), deep=deep)
        common.print_item(result)

    @args('--server', metavar='SERVER',
          help='Apply the policy to this server\'s backups only.')
    @_repository_arg()
    @args('--keep-last', metavar='N',
          help='Keep the N newest backups.')
    @args('--keep-hourly', metavar='N',
          help='Keep one per hour for N hours.')
    @args('--keep-daily', metavar='N',
          help='Keep one per day for N days.')
    @args('--keep-weekly', metavar='N',
          help='Keep one per week for N weeks.')
    @args('--keep-monthly', metavar='N',
          help='Keep one per month for N months.')
    @args('--keep-yearly', metavar='N',
          help='Keep one per year for N years.')
    @args('--dry-run', action='store_true', default=False,
          help='Only show what would be forgotten.')
    def prune(self, server=None, url=None, keep_last=None, keep_hourly=None,
              keep_daily=None, keep_weekly=None, keep_monthly=None,
              keep_yearly=None, dry_run=False):
        """Forget backups by retention policy (default: [backup] keep_*)
        and reclaim the data no backup uses."""
        given = {}
        for option, value in (('last', keep_last), ('hourly', keep_hourly),
                              ('daily', keep_daily), ('weekly', keep_weekly),
                              ('monthly', keep_monthly),
                              ('yearly', keep_yearly)):
            if value is not None:
                given['keep_' + option] = common.count(
                    value, '--keep-' + option)
        policy = backups.policy_from(**given)
        result = backups.prune(policy, server=server, url=common.url(url),
                               dry_run=dry_run)
        common.print_item(result)
