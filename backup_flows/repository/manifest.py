"""Backup manifests: the commit point of a backup.

``manifests/<backup id>`` is a metadata envelope (aad b"manifest:" + backup
id) of JSON::

    {"format": "backup-flows-manifest", "version": 2,
     "id": "20261125T090122.123456Z-1a2b3c4d", "server": "<server key>",
     "created_at": "2026-11-25T09:01:22.123456Z",
     "metadata": {...anything JSON: server definition, consistency...},
     "disks": [{"name": "vda", "size": 1073741824,
                "sha256": "<hex of the whole disk>",
                "chunk_list": "<id hex of the root list object>",
                "chunk_count": 8192, "zero_bytes": 4096}]}

The order of a disk's chunks is in list objects, stored like chunks (see
chunk_list.py). Version 1 (still read, no longer written) had instead, in
each disk, ``"chunks": [["<chunk id hex>", length], [null, length], ...]``
(a ``null`` id is a zero run that is not stored; the lengths add up to the
size). A backup exists exactly when its manifest does; it is written after
every pack and index it refers to.
"""

import datetime
import json
import os

from backup_flows.repository import crypto

PREFIX = 'manifests/'
FORMAT = 'backup-flows-manifest'
VERSION = 2


class ManifestError(ValueError):
    """A manifest is unreadable or malformed."""


class ManifestTooNew(ManifestError):
    """A manifest has a format version this code does not read."""

    def __init__(self, version):
        super().__init__('manifest version %s' % version)
        self.version = version


def utcnow():
    """The current time, timezone-aware UTC."""
    return datetime.datetime.now(datetime.timezone.utc)


def new_backup_id(now=None):
    """Return a new id: UTC time to the microsecond (ids sort by time)
    plus 32 random bits."""
    now = now or utcnow()
    return '%s-%s' % (now.strftime('%Y%m%dT%H%M%S.%fZ'),
                      os.urandom(4).hex())


def object_name(backup_id):
    """Object name of the manifest of ``backup_id``."""
    return PREFIX + backup_id


def _aad(backup_id):
    return b'manifest:' + backup_id.encode('utf-8')


def build(backup_id, server, metadata, disks, created_at):
    """Return the manifest document (a dict)."""
    return {
        'format': FORMAT,
        'version': VERSION,
        'id': backup_id,
        'server': server,
        'created_at': created_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        'metadata': metadata,
        'disks': disks,
    }


def encode(keys, document):
    """Return the stored bytes of ``document``."""
    data = json.dumps(document, separators=(',', ':'),
                      sort_keys=True).encode('utf-8')
    return keys.seal_metadata(data, _aad(document['id']))


def decode(keys, backup_id, data):
    """Return the validated manifest document stored as ``data``."""
    try:
        document = json.loads(keys.open_metadata(data, _aad(backup_id)))
    except (crypto.IntegrityError, ValueError) as exc:
        raise ManifestError(str(exc))
    if not isinstance(document, dict) or document.get('format') != FORMAT:
        raise ManifestError('not a backup-flows manifest')
    if not isinstance(document.get('version'), int):
        raise ManifestError('manifest version missing')
    if document['version'] > VERSION:
        raise ManifestTooNew(document['version'])
    if document.get('id') != backup_id:
        raise ManifestError('manifest id %r does not match its name'
                            % document.get('id'))
    validate_disks(document.get('disks'))
    return document


def validate_disks(disks):
    """Raise :class:`ManifestError` unless ``disks`` is well formed."""
    if not isinstance(disks, list):
        raise ManifestError('disks is not a list')
    for disk in disks:
        try:
            if 'chunks' not in disk:
                _validate_listed_disk(disk)
                continue
            total = 0
            for chunk_id, length in disk['chunks']:
                if chunk_id is not None:
                    bytes.fromhex(chunk_id)
                total += length
            if total != disk['size'] or len(disk['sha256']) != 64:
                raise ManifestError('disk %s: chunk lengths add up to %d, '
                                    'size is %d'
                                    % (disk.get('name'), total, disk['size']))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ManifestError):
                raise
            raise ManifestError('disk %r malformed: %s'
                                % (disk.get('name') if isinstance(disk, dict)
                                   else disk, exc))


def _validate_listed_disk(disk):
    """A version 2 disk record: sizes and ids (its list is read later)."""
    for key in ('size', 'chunk_count', 'zero_bytes'):
        if not isinstance(disk[key], int) or disk[key] < 0:
            raise ValueError('%s is not a count' % key)
    if len(bytes.fromhex(disk['chunk_list'])) != 32:
        raise ValueError('chunk_list is not an id')
    if len(bytes.fromhex(disk['sha256'])) != 32:
        raise ValueError('sha256 is not a SHA-256')
    if not isinstance(disk['name'], str):
        raise ValueError('name is not a string')


def created_at(document):
    """Creation time of a manifest as an aware datetime."""
    return datetime.datetime.strptime(
        document['created_at'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(
            tzinfo=datetime.timezone.utc)


def summary(document):
    """Small dict describing a backup for listings."""
    return {
        'id': document['id'],
        'server': document['server'],
        'created_at': document['created_at'],
        'disks': [{'name': d['name'], 'size': d['size']}
                  for d in document['disks']],
        'size': sum(d['size'] for d in document['disks']),
    }
