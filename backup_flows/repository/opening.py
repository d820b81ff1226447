"""Opening and creating a repository: its config, its key, an empty place.

Helpers of :meth:`Repository.open` and :meth:`Repository.init`
(repository.py); each failure says what was wrong and what to do.
"""

from backup_flows import exceptions
from backup_flows.repository import config as config_mod
from backup_flows.repository import crypto
from backup_flows.repository import keyfile
from backup_flows.repository.backends import base


def backend_call(url, func, *args):
    """``func(*args)``; an unexpected backend error becomes
    RepositoryBackendError naming ``url``."""
    try:
        return func(*args)
    except (base.ObjectNotFound, exceptions.BackupFlowsError):
        raise
    except Exception as exc:
        raise exceptions.RepositoryBackendError(
            url=url, reason='%s: %s' % (type(exc).__name__, exc))


def check_empty(url, backend):
    """Refuse to create a repository where there is already something."""
    try:
        data = backend_call(url, backend.get, config_mod.OBJECT)
    except base.ObjectNotFound:
        data = None
    if data is not None:
        try:
            config_mod.decode(data)
        except config_mod.ConfigTooNew:
            raise exceptions.RepositoryExists(url=url)
        except config_mod.ConfigError as exc:
            raise exceptions.ForeignRepository(url=url, reason=str(exc))
        raise exceptions.RepositoryExists(url=url)
    # A key file alone is the leftover of an interrupted init (the config
    # is written last): it is overwritten.
    first = backend_call(url, lambda: next(
        (name for name, _ in backend.list('')
         if name != keyfile.KEY_OBJECT), None))
    if first is not None:
        raise exceptions.ForeignRepository(
            url=url, reason='it is not empty (it holds %s); a new '
            'repository needs an empty location' % first)


def read_config(url, backend):
    """The decoded config of the repository at ``url``.

    :raises RepositoryNotFound, RepositoryFormatTooNew, ForeignRepository:
    """
    try:
        data = backend_call(url, backend.get, config_mod.OBJECT)
    except base.ObjectNotFound:
        raise exceptions.RepositoryNotFound(url=url)
    try:
        return config_mod.decode(data)
    except config_mod.ConfigTooNew as exc:
        raise exceptions.RepositoryFormatTooNew(
            what='Repository', url=url, version=exc.version,
            supported=config_mod.VERSION)
    except config_mod.ConfigError as exc:
        raise exceptions.ForeignRepository(url=url, reason=str(exc))


def unlock(url, backend, config, secret):
    """The keys of the encrypted repository at ``url``, unlocked with
    ``secret``."""
    if secret is None:
        raise exceptions.RepositoryKeyError(
            url=url, reason='it is encrypted; set [repository] '
            'passphrase_file, passphrase or key_file, or %s'
            % keyfile.PASSPHRASE_ENV)
    try:
        data = backend_call(url, backend.get, keyfile.KEY_OBJECT)
    except base.ObjectNotFound:
        raise exceptions.RepositoryKeyError(
            url=url, reason='its key file %s is missing; restore it '
            'from your key backup' % keyfile.KEY_OBJECT)
    try:
        return keyfile.unlock(data, secret, config['id'])
    except (keyfile.KeyFileError, crypto.IntegrityError) as exc:
        raise exceptions.RepositoryKeyError(url=url, reason=str(exc))
