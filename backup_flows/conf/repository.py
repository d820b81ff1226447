"""Options of the [repository] group: where and how backups are stored."""

from oslo_config import cfg

repository_group = cfg.OptGroup(
    'repository',
    title='Backup repository options',
    help='Location, encryption and tuning of the backup repository.')

repository_opts = [
    cfg.StrOpt('url',
               help='URL of the backup repository: file:///path (or a plain '
                    'path) or swift://container/prefix?cloud=NAME. Unset: a '
                    'file repository under $state_path/repository.'),
    cfg.StrOpt('passphrase',
               secret=True,
               help='Passphrase of an encrypted repository. Prefer '
                    'passphrase_file or the BACKUP_FLOWS_REPOSITORY_'
                    'PASSPHRASE environment variable; never give it on a '
                    'command line.'),
    cfg.StrOpt('passphrase_file',
               help='File whose first line is the passphrase of an '
                    'encrypted repository.'),
    cfg.StrOpt('key_file',
               help='File holding a raw 256-bit key (64 hexadecimal '
                    'characters) used instead of a passphrase to unlock an '
                    'encrypted repository.'),
    cfg.IntOpt('chunk_size_kib',
               default=128,
               min=16,
               max=1024,
               help='FastCDC target chunk size in KiB for new repositories '
                    '(the real average is 1.25 times this). Fixed at init.'),
    cfg.IntOpt('pack_size_mib',
               default=16,
               min=1,
               max=512,
               help='Size in MiB at which a pack object is closed and '
                    'uploaded.'),
    cfg.IntOpt('compression_level',
               default=1,
               min=-7,
               max=19,
               help='zstd level; chunks that do not shrink are stored '
                    'uncompressed.'),
    cfg.IntOpt('workers',
               default=0,
               min=0,
               help='Threads hashing, compressing and encrypting chunks. '
                    '0: one per CPU, at most 4. Restores, checks and copies '
                    'read with twice as many (reads wait on storage).'),
    cfg.IntOpt('lock_ttl',
               default=600,
               min=10,
               help='Seconds after which a lock that was not refreshed is '
                    'stale and ignored (its holder stopped: killed, host '
                    'down). Live holders refresh every quarter of it; a '
                    'holder that could not refresh for this long gives '
                    'its work up instead of committing it.'),
    cfg.IntOpt('lock_wait',
               default=900,
               min=0,
               help='Seconds to wait for a conflicting lock to go away '
                    'before failing: a backup waits for a prune to end, a '
                    'prune for backups to commit. The default outlasts an '
                    'ordinary prune and the expiry of a crashed holder\'s '
                    'lock (lock_ttl).'),
    cfg.IntOpt('prune_grace',
               default=6 * 3600,
               min=0,
               help='Seconds during which prune leaves new packs and index '
                    'files alone, and keeps packs it found unused before '
                    'deleting them (a later prune deletes them). It must '
                    'exceed by far how long object listings may lag (Swift '
                    'listings are eventually consistent) and the clock '
                    'difference between hosts. 0 deletes unused data at '
                    'once: only for storage whose listings are always up '
                    'to date (a local file system) and tests.'),
    cfg.IntOpt('backend_retries',
               default=5,
               min=0,
               help='Retries of a storage backend request that failed with '
                    'a transient error (exponential back-off).'),
]


def register_opts(conf):
    conf.register_group(repository_group)
    conf.register_opts(repository_opts, group=repository_group)


def list_opts():
    return {repository_group: repository_opts}
