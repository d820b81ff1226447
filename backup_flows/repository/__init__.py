"""The backup repository: deduplicated, compressed, optionally encrypted,
crash-safe storage of disk images and server definitions.

API for flows (everything else in this package is internal)::

    from backup_flows import repository

    repo = repository.open_repository(conf)            # [repository] url
    repo = repository.open_repository(conf, url='swift://bk/prod?cloud=c2')
    repo = repository.init_repository(conf, url, encrypted=True)

    with repo.start_backup() as session:               # shared lock
        info = session.write_disk('vda', stream)       # readinto()/read()
        # info: {'name', 'size', 'sha256', 'zero_bytes', 'new_bytes'}
        backup_id = session.commit(server=server_id,
                                   metadata={'flavor': ..., 'consistency':
                                             'filesystem', ...})

    for data in repo.read_disk(backup_id, 'vda'): ...  # verified bytes
    for offset, length, data in repo.iter_extents(backup_id, 'vda'): ...
        # data is None for a zero run (leave a hole)
    repo.restore_disk(backup_id, 'vda', '/dev/vdb' or path, sparse=True)

    repo.list_backups(server=None)     # [{'id', 'server', 'created_at',
                                       #   'disks', 'size'}], oldest first
    repo.show_backup(backup_id)        # the manifest document
    repo.forget([backup_id, ...])
    repo.check(deep=False)             # report; report['affected'] lists
                                       # damaged backups and disks
    repo.repair()                      # drop damaged copies of chunks
                                       # that have a good one
    repo.prune(repository.Policy(keep_last=7, daily=14, weekly=8,
                                 monthly=12, yearly=3), dry_run=False)
    repo.stats()
    repo.copy_backup(backup_id, other_repo)
    repo.rebuild_index()
    repo.close()                       # or use repo as a context manager

URLs: ``file:///path`` or a plain path (``file`` backend), and
``swift://container/prefix?cloud=NAME`` (``swift`` backend). Errors are
:mod:`backup_flows.exceptions` classes: RepositoryNotFound,
RepositoryExists, ForeignRepository, RepositoryFormatTooNew,
RepositoryKeyError, RepositoryLocked, RepositoryCorrupted, BackupNotFound,
RepositoryBackendError, PluginError. The on-disk format is described in
doc/source/reference/repository-format.rst.
"""

import os

from backup_flows import exceptions
from backup_flows.repository import backends
from backup_flows.repository import config as config_mod
from backup_flows.repository import keyfile
from backup_flows.repository import retention
from backup_flows.repository.keyfile import Secret
from backup_flows.repository.repository import Repository

Policy = retention.Policy

__all__ = ['Policy', 'Repository', 'Secret', 'embedded_url',
           'init_repository', 'open_repository', 'resolve_url']


def embedded_url(conf):
    """The file repository under state_path, used when none is named."""
    return os.path.join(conf.state_path, 'repository')


def resolve_url(conf, url=None):
    """The repository to use: ``url``, else ``[repository] url``, else
    :func:`embedded_url`."""
    return url or conf.repository.url or embedded_url(conf)


def _backend(conf, url):
    # The swift backend takes its cloud from --os-cloud/OS_CLOUD unless the
    # URL names one, and its retry count from [repository].
    return backends.load_backend(url, defaults={
        'cloud': conf.os_cloud, 'retries': conf.repository.backend_retries})


def open_repository(conf, url=None, secret=None):
    """Open the repository at ``url`` (see :func:`resolve_url`).

    The secret of an encrypted repository comes from ``secret`` or else
    from the configuration / environment (see keyfile.secret_from_conf).
    """
    url = resolve_url(conf, url)
    return Repository.open(url, secret=secret or _secret(conf, url),
                           settings=config_mod.Settings.from_conf(conf),
                           backend=_backend(conf, url))


def init_repository(conf, url=None, encrypted=False, secret=None):
    """Create a repository at ``url`` (see :func:`resolve_url`)."""
    url = resolve_url(conf, url)
    return Repository.init(url, encrypted=encrypted,
                           secret=secret or _secret(conf, url),
                           chunk_size=conf.repository.chunk_size_kib << 10,
                           settings=config_mod.Settings.from_conf(conf),
                           backend=_backend(conf, url))


def _secret(conf, url):
    try:
        return keyfile.secret_from_conf(conf)
    except (OSError, ValueError) as exc:
        raise exceptions.RepositoryKeyError(url=url, reason=str(exc))
