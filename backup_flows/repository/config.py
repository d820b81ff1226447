"""The repository ``config`` object and the runtime settings.

``config`` is plain JSON written once at init, last (its presence marks an
initialised repository)::

    {"format": "backup-flows-repository", "version": 1,
     "id": "<32 hex>", "created_at": "...",
     "chunker": {"algorithm": "fastcdc2020", "avg_size": 65536,
                 "min_size": 16384, "max_size": 262144,
                 "normalized_chunking": 1, "seed": 0},
     "chunk_id": "blake3" | "blake3-keyed",
     "compression": "zstd",
     "encryption": "none" | "aes-256-gcm"}
"""

import json
import os
import time
import uuid

from backup_flows.repository import chunker
from backup_flows.repository import crypto

OBJECT = 'config'
FORMAT = 'backup-flows-repository'
VERSION = 1


class ConfigError(ValueError):
    """``config`` is not a backup-flows repository config."""


class ConfigTooNew(ConfigError):
    """``config`` has a newer format version."""

    def __init__(self, version):
        super().__init__('config version %s' % version)
        self.version = version


def build(encrypted, chunk_size):
    """Return a new config document."""
    return {
        'format': FORMAT,
        'version': VERSION,
        'id': uuid.uuid4().hex,
        'created_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'chunker': chunker.default_params(chunk_size),
        'chunk_id': 'blake3-keyed' if encrypted else 'blake3',
        'compression': 'zstd',
        'encryption': (crypto.ENCRYPTION_AES_GCM if encrypted
                       else crypto.ENCRYPTION_NONE),
    }


def encode(document):
    """Return the stored bytes of a config document."""
    return json.dumps(document, indent=2).encode('utf-8')


def decode(data):
    """Return the validated config document stored as ``data``."""
    try:
        document = json.loads(data)
    except ValueError:
        raise ConfigError('its config is not JSON')
    if not isinstance(document, dict) or document.get('format') != FORMAT:
        raise ConfigError('its config has no backup-flows format marker')
    version = document.get('version')
    if not isinstance(version, int):
        raise ConfigError('its config has no version')
    if version > VERSION:
        raise ConfigTooNew(version)
    try:
        chunker.validate_params(document['chunker'])
        if document['encryption'] not in (crypto.ENCRYPTION_NONE,
                                          crypto.ENCRYPTION_AES_GCM):
            raise ConfigError('unknown encryption %r'
                              % document['encryption'])
        uuid.UUID(document['id'])
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError('its config is incomplete (%s)' % exc)
    return document


class Settings:
    """Tuning of one opened repository (not stored in it).

    :param pack_size: bytes at which a pack is closed.
    :param compression_level: zstd level.
    :param workers: hashing/compression threads; 0 = CPUs, at most 4.
        Reads use ``read_workers``, twice as many.
    :param lock_ttl: seconds after which an unrefreshed lock is stale.
    :param lock_wait: seconds to wait for a conflicting lock.
    :param repack_threshold: prune rewrites a pack when at least this
        fraction of its bytes is unreferenced.
    :param prune_grace: seconds during which prune leaves new packs and
        index files alone and keeps unused packs before deleting them.
    """

    def __init__(self, pack_size=16 << 20, compression_level=1, workers=0,
                 lock_ttl=600, lock_wait=0, repack_threshold=0.2,
                 prune_grace=6 * 3600):
        self.pack_size = pack_size
        self.compression_level = compression_level
        self.workers = workers or min(os.cpu_count() or 1, 4)
        # Reads (restore, check, copy) also wait on storage: twice as many
        # threads keep the CPUs busy while some wait (measured on restores
        # from cold files; bench/repository/README.rst).
        self.read_workers = 2 * self.workers
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        self.repack_threshold = repack_threshold
        self.prune_grace = prune_grace

    @classmethod
    def from_conf(cls, conf):
        """Settings from the ``[repository]`` options of ``conf``."""
        group = conf.repository
        return cls(pack_size=group.pack_size_mib << 20,
                   compression_level=group.compression_level,
                   workers=group.workers, lock_ttl=group.lock_ttl,
                   lock_wait=group.lock_wait,
                   prune_grace=group.prune_grace)
