"""The key file ``keys/key`` of an encrypted repository.

The repository's random master keys (see :class:`crypto.Keys`) are wrapped
with AES-256-GCM under a key-encryption key (KEK). The KEK is derived from a
passphrase with scrypt (memory-hard; default N=2^17, r=8, p=1: 128 MiB and
about half a second), or is a raw 256-bit key supplied by the operator.
Changing the passphrase rewrites only this file.

Passphrases come from configuration, the environment variable
``BACKUP_FLOWS_REPOSITORY_PASSPHRASE`` or a file, never from a command line;
see :func:`secret_from_conf`.
"""

import base64
import binascii
import json
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import aead
from cryptography.hazmat.primitives.kdf import scrypt

from backup_flows.repository import crypto

KEY_OBJECT = 'keys/key'
FORMAT = 'backup-flows-key'
VERSION = 1
PASSPHRASE_ENV = 'BACKUP_FLOWS_REPOSITORY_PASSPHRASE'
DEFAULT_SCRYPT = {'n': 1 << 17, 'r': 8, 'p': 1}


class KeyFileError(ValueError):
    """The key file is unusable; the message says why."""


class Secret:
    """What unlocks an encrypted repository: a passphrase or a raw key.

    Its ``repr`` never shows the secret.
    """

    def __init__(self, passphrase=None, raw_key=None):
        if (passphrase is None) == (raw_key is None):
            raise ValueError('give exactly one of passphrase and raw_key')
        if raw_key is not None and len(raw_key) != crypto.KEY_SIZE:
            raise ValueError('a raw key has %d bytes' % crypto.KEY_SIZE)
        if passphrase is not None and not passphrase:
            raise ValueError('the passphrase is empty')
        self.passphrase = passphrase
        self.raw_key = raw_key

    def __repr__(self):
        return '<Secret %s>' % ('passphrase' if self.passphrase is not None
                                else 'raw key')


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def _kek(secret, kdf):
    if kdf['name'] == 'none':
        if secret.raw_key is None:
            raise KeyFileError('the repository is unlocked by a raw key, '
                               'not a passphrase')
        return secret.raw_key
    if kdf['name'] != 'scrypt':
        raise KeyFileError('unknown key derivation %r' % kdf['name'])
    if secret.passphrase is None:
        raise KeyFileError('the repository is unlocked by a passphrase, '
                           'not a raw key')
    salt = base64.b64decode(kdf['salt'])
    derive = scrypt.Scrypt(salt=salt, length=crypto.KEY_SIZE, n=kdf['n'],
                           r=kdf['r'], p=kdf['p'])
    return derive.derive(secret.passphrase.encode('utf-8'))


def create(keys, secret, repository_id, scrypt_params=None):
    """Return the key file bytes wrapping ``keys`` under ``secret``."""
    if secret.raw_key is not None:
        kdf = {'name': 'none'}
    else:
        kdf = dict(DEFAULT_SCRYPT, **(scrypt_params or {}))
        kdf.update(name='scrypt', salt=_b64(os.urandom(16)))
    nonce = os.urandom(crypto.NONCE_SIZE)
    wrapped = aead.AESGCM(_kek(secret, kdf)).encrypt(
        nonce, keys.material(), repository_id.encode('ascii'))
    document = {
        'format': FORMAT,
        'version': VERSION,
        'created_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'kdf': kdf,
        'cipher': crypto.ENCRYPTION_AES_GCM,
        'nonce': _b64(nonce),
        'wrapped_keys': _b64(wrapped),
    }
    return json.dumps(document, indent=2).encode('utf-8')


def unlock(data, secret, repository_id):
    """Return the :class:`crypto.Keys` wrapped in key file ``data``.

    :raises KeyFileError: damaged file, or wrong passphrase/key.
    """
    try:
        document = json.loads(data)
        if document.get('format') != FORMAT:
            raise KeyFileError('keys/key is not a backup-flows key file')
        if document.get('version') != VERSION:
            raise KeyFileError('key file version %s is not supported'
                               % document.get('version'))
        kdf = document['kdf']
        nonce = base64.b64decode(document['nonce'])
        wrapped = base64.b64decode(document['wrapped_keys'])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        if isinstance(exc, KeyFileError):
            raise
        raise KeyFileError('keys/key is damaged (%s)' % exc)
    try:
        material = aead.AESGCM(_kek(secret, kdf)).decrypt(
            nonce, wrapped, repository_id.encode('ascii'))
    except InvalidTag:
        raise KeyFileError('wrong passphrase or key')
    return crypto.Keys.from_material(material)


def _read_secret_file(path, option):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else (
            'not UTF-8 text')
        raise KeyFileError('[repository] %s %s cannot be read: %s'
                           % (option, path, reason or exc))


def secret_from_conf(conf):
    """Return the :class:`Secret` configured in ``conf``, or ``None``.

    Order: ``[repository] key_file`` (raw key, hex), ``passphrase_file``,
    ``passphrase``, then the ``BACKUP_FLOWS_REPOSITORY_PASSPHRASE``
    environment variable.
    """
    group = conf.repository
    if group.key_file:
        text = _read_secret_file(group.key_file, 'key_file').strip()
        try:
            return Secret(raw_key=bytes.fromhex(text))
        except ValueError:
            raise KeyFileError('[repository] key_file %s must hold 64 '
                               'hexadecimal characters' % group.key_file)
    if group.passphrase_file:
        text = _read_secret_file(group.passphrase_file, 'passphrase_file')
        return Secret(passphrase=text.split('\n', 1)[0].rstrip('\r'))
    if group.passphrase:
        return Secret(passphrase=group.passphrase)
    if os.environ.get(PASSPHRASE_ENV):
        return Secret(passphrase=os.environ[PASSPHRASE_ENV])
    return None
