"""CLI category ``repository``: create, inspect, verify and prune the
backup repository.

The passphrase of an encrypted repository is never an argument: it comes
from ``[repository] passphrase_file``, ``passphrase`` or ``key_file``, or
the ``BACKUP_FLOWS_REPOSITORY_PASSPHRASE`` environment variable.
"""

import logging as std_logging
import sys

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import repository as repository_lib
from backup_flows.cmd import common
from backup_flows.cmd.common import args

CONF = bf_conf.CONF

_LIST_COLUMNS = ['id', 'server', 'created_at', 'disks', 'size', 'error']
_CHECK_FIELDS = ['ok', 'deep', 'backups', 'chunks_checked', 'packs_checked',
                 'affected', 'damaged_manifests', 'index_errors',
                 'missing_packs', 'damaged_packs', 'damaged_copies',
                 'bad_chunks', 'unreferenced_packs']
_REPAIR_FIELDS = ['dropped_copies', 'packs_rewritten', 'packs_deleted']
_PRUNE_FIELDS = ['dry_run', 'forgotten', 'packs_deleted', 'packs_repacked',
                 'bytes_freed', 'unreadable_packs']


def _repository_arg():
    # dest must not be "repository": that is the name of an option group.
    return args('--repository', dest='url', metavar='URL',
                help='Repository URL: file:///path (or a path) or '
                     'swift://container/prefix[?cloud=NAME]. Default: '
                     '[repository] url, else $state_path/repository.')


def _quiet_library():
    # The commands print what the library did; its own log lines (progress,
    # warnings that the report repeats) are shown with --debug only.
    if not CONF.debug:
        std_logging.getLogger('backup_flows.repository').setLevel(
            std_logging.ERROR)


def _open(url):
    _quiet_library()
    return repository_lib.open_repository(CONF, url=common.url(url))


def _affected_lines(affected):
    lines = []
    for item in affected:
        if item.get('manifest'):
            lines.append('%s: manifest unreadable' % item['backup'])
            continue
        for disk in item['disks']:
            lines.append('%s (server %s) disk %s: %d bad chunks from offset '
                         '%d' % (item['backup'], item['server'], disk['name'],
                                 disk['bad_chunks'],
                                 disk['first_bad_offset']))
    return lines


def _copy_lines(copies):
    return ['chunk %s in pack %s: %s%s'
            % (c['chunk'], c['pack'], c['reason'],
               '' if c.get('good_copy', True) else ' (no good copy)')
            for c in copies]


def _damage_hint(report):
    """What the check error line adds after the count of backups."""
    if report['index_errors']:
        return ' ("repository rebuild-index" repairs damaged index files)'
    with_good = sum(1 for c in report['damaged_copies'] if c['good_copy'])
    if with_good:
        return ('; %d damaged copies have a good copy ("repository check '
                '--repair" drops them)' % with_good)
    if report['bad_chunks']:
        return ('; %d chunks have no good copy (the next backup of the same '
                'data stores them again)' % len(report['bad_chunks']))
    if report['damaged_packs']:
        return ('; %d packs are damaged in bytes no backup reads '
                '("repository check --repair" rewrites them)'
                % len(report['damaged_packs']))
    return ''


class RepositoryCommands:
    """Backup repository: init, list, check, stats, prune, rebuild-index."""

    @args('url', metavar='URL', nargs='?',
          help='Where to create it (default: [repository] url, else '
               '$state_path/repository).')
    @args('--encrypt', action='store_true', default=False,
          help='Encrypt with AES-256-GCM under the configured passphrase or '
               'key file (never given on the command line).')
    def init(self, url=None, encrypt=False):
        """Create an empty repository."""
        _quiet_library()
        with repository_lib.init_repository(
                CONF, url=common.url(url), encrypted=encrypt) as repo:
            item = {'url': repo.url, 'id': repo.config['id'],
                    'encryption': repo.config['encryption'],
                    'chunk_id': repo.config['chunk_id'],
                    'chunk_size': repo.config['chunker']['avg_size']}
        common.print_item(item, ['url', 'id', 'encryption', 'chunk_id',
                                 'chunk_size'])
        if encrypt:
            sys.stderr.write(
                'WARNING: keep a copy of the passphrase (or key file) and of '
                'the object keys/key: without both the backups cannot be '
                'read.\n')

    @_repository_arg()
    @args('--deep', action='store_true', default=False,
          help='Also read every copy of every referenced chunk back and '
               'verify it (reads all the data).')
    @args('--repair', action='store_true', default=False,
          help='Deep check under the exclusive lock, then drop every '
               'damaged copy of a chunk that has a good copy (its pack is '
               'rewritten); chunks without a good copy are listed with the '
               'backups they affect. Implies --deep.')
    def check(self, url=None, deep=False, repair=False):
        """Verify (or repair) the repository; exit 1 and list the damage
        that remains, if any."""
        with _open(url) as repo:
            report = repo.repair() if repair else repo.check(deep=deep)
        if CONF.format == 'json':
            common.print_item(report)
        else:
            shown = dict(report, affected=_affected_lines(report['affected']),
                         damaged_copies=_copy_lines(report['damaged_copies']),
                         dropped_copies=_copy_lines(
                             report.get('dropped_copies', [])))
            common.print_item(shown, _CHECK_FIELDS +
                              (_REPAIR_FIELDS if repair else []))
        if not report['ok']:
            hint = _damage_hint(report)
            sys.stderr.write(
                'ERROR: repository %s is damaged: %d backups affected%s\n'
                % (repo.url, len(report['affected']), hint))
            return exceptions.EXIT_FAILED
        return exceptions.EXIT_OK

    @_repository_arg()
    def rebuild_index(self, url=None):
        """Rewrite the index from the pack trailers (after index damage)."""
        with _open(url) as repo:
            result = repo.rebuild_index()
        common.print_item(result, ['packs', 'chunks', 'unreadable_packs'])

    @_repository_arg()
    def stats(self, url=None):
        """Logical and stored sizes, deduplication and compression."""
        with _open(url) as repo:
            result = repo.stats()
        common.print_item(dict(result, url=repo.url))

    @_repository_arg()
    @args('--server', metavar='SERVER',
          help='Only the backups of this server.')
    def list(self, url=None, server=None):
        """List backups, oldest first."""
        with _open(url) as repo:
            backups = repo.list_backups(server=server)
        if CONF.format == 'json':
            common.print_list(backups, _LIST_COLUMNS)
            return
        rows = [dict(b, disks=['%s %d' % (d['name'], d['size'])
                               for d in b.get('disks', [])])
                for b in backups]
        columns = _LIST_COLUMNS if any('error' in b for b in backups) \
            else _LIST_COLUMNS[:-1]
        common.print_list(rows, columns)

    @_repository_arg()
    @args('--keep-last', metavar='N', default='0',
          help='Keep the N newest backups of each server.')
    @args('--keep-hourly', metavar='N', default='0',
          help='Keep the newest backup of each of the last N hours that '
               'have one.')
    @args('--keep-daily', metavar='N', default='0',
          help='The same per day.')
    @args('--keep-weekly', metavar='N', default='0',
          help='The same per ISO week.')
    @args('--keep-monthly', metavar='N', default='0',
          help='The same per month.')
    @args('--keep-yearly', metavar='N', default='0',
          help='The same per year.')
    @args('--dry-run', action='store_true', default=False,
          help='Only show what would be forgotten and freed.')
    def prune(self, url=None, keep_last='0', keep_hourly='0',
              keep_daily='0', keep_weekly='0', keep_monthly='0',
              keep_yearly='0', dry_run=False):
        """Forget backups by retention policy (per server), then delete
        unreferenced data. Without --keep-* options every backup is kept
        and only unreferenced data is deleted."""
        policy = repository_policy(keep_last, keep_hourly, keep_daily,
                                   keep_weekly, keep_monthly, keep_yearly)
        with _open(url) as repo:
            result = repo.prune(policy, dry_run=dry_run)
        if CONF.format == 'json':
            common.print_item(result)
            return
        rows = [{'id': backup_id, 'action': 'keep',
                 'rules': ', '.join(rules)}
                for backup_id, rules in result['kept'].items()]
        rows += [{'id': backup_id, 'action': 'forget', 'rules': ''}
                 for backup_id in result['forgotten']]
        rows.sort(key=lambda r: r['id'])
        common.print_list(rows, ['id', 'action', 'rules'])
        common.print_item(result, _PRUNE_FIELDS)


def repository_policy(keep_last, hourly, daily, weekly, monthly, yearly):
    """A retention policy from the CLI's --keep-* strings."""
    return repository_lib.Policy(
        keep_last=common.count(keep_last, '--keep-last'),
        hourly=common.count(hourly, '--keep-hourly'),
        daily=common.count(daily, '--keep-daily'),
        weekly=common.count(weekly, '--keep-weekly'),
        monthly=common.count(monthly, '--keep-monthly'),
        yearly=common.count(yearly, '--keep-yearly'))
