"""CLI category ``repository``: maintenance of the backup repository
(init, check, stats, rebuild-index, gc); the backups in it are the
``backup`` category's.

The passphrase of an encrypted repository is never an argument: it comes
from ``[repository] passphrase_file``, ``passphrase`` or ``key_file``, or
the ``BACKUP_FLOWS_REPOSITORY_PASSPHRASE`` environment variable.
"""

import logging as std_logging
import sys

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import repository as repository_lib
from backup_flows.cmd import backup as backup_cmd
from backup_flows.cmd import common
from backup_flows.cmd.common import args
from backup_flows.operations import backups

CONF = bf_conf.CONF

_CHECK_FIELDS = ['ok', 'deep', 'backups', 'chunks_checked', 'packs_checked',
                 'affected', 'damaged_manifests', 'index_errors',
                 'missing_packs', 'damaged_packs', 'damaged_copies',
                 'bad_chunks', 'unreferenced_packs']
_REPAIR_FIELDS = ['dropped_copies', 'packs_rewritten', 'packs_deleted']
_GC_FIELDS = ['dry_run', 'packs_deleted', 'packs_repacked', 'packs_pending',
              'packs_too_young', 'bytes_freed', 'temporaries_deleted',
              'unreadable_packs', 'grace', 'job_id']


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
    """Backup repository maintenance: init, check, stats, rebuild-index,
    gc."""

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
    @args('--dry-run', action='store_true', default=False,
          help='Only show what would be freed.')
    def gc(self, url=None, dry_run=False):
        """Delete the data no backup uses; forget no backup.

        The same collection as prune's, under the exclusive lock: packs
        found unused are first pending and deleted by a later gc or prune
        once [repository] prune_grace has passed, so a backup running
        meanwhile never loses a chunk it deduplicated against.
        """
        _quiet_library()
        result = backups.collect_garbage(url=common.url(url),
                                         dry_run=dry_run)
        result.pop('kept', None)
        common.print_item(result, None if common.json_output()
                          else _GC_FIELDS)

    @_repository_arg()
    @args('--server', metavar='SERVER',
          help='Only the backups of this server.')
    def list(self, url=None, server=None):
        """Deprecated alias of "backup list" (removed next release)."""
        _deprecated('repository list', 'backup list')
        return backup_cmd.BackupCommands().list(server=server, url=url)

    @_repository_arg()
    @common.retention_args
    @args('--dry-run', action='store_true', default=False,
          help='Only show what would be forgotten and freed.')
    def prune(self, url=None, dry_run=False, **keep):
        """Deprecated: "backup prune" with --keep-*, else "repository gc".

        Removed in the next release. With --keep-* options it runs "backup
        prune"; without, it forgets no backup and runs "repository gc", as
        it did before.
        """
        if any(value is not None for value in keep.values()):
            _deprecated('repository prune', 'backup prune')
            return backup_cmd.BackupCommands().prune(url=url,
                                                     dry_run=dry_run, **keep)
        _deprecated('repository prune', 'repository gc')
        return self.gc(url=url, dry_run=dry_run)


def _deprecated(old, new):
    sys.stderr.write('WARNING: "backup-flows-manage %s" is deprecated and '
                     'will be removed in the next release; use '
                     '"backup-flows-manage %s"\n' % (old, new))
