"""The repository facade used by flows and the CLI.

Open or create::

    repo = Repository.open('file:///srv/backups', secret=Secret(...))
    repo = Repository.init('swift://backups/prod?cloud=site2',
                           encrypted=True, secret=Secret(passphrase='...'))

then :meth:`Repository.start_backup`, :meth:`Repository.read_disk`,
:meth:`Repository.restore_disk`, :meth:`Repository.list_backups`,
:meth:`Repository.show_backup`, :meth:`Repository.forget`,
:meth:`Repository.check`, :meth:`Repository.repair`,
:meth:`Repository.prune`, :meth:`Repository.stats`,
:meth:`Repository.copy_backup`, :meth:`Repository.rebuild_index` and
:meth:`Repository.close` (or use it as a context manager). A Repository
object may be used from one thread at a time.
"""

import concurrent.futures
import hashlib
import os

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository import backends
from backup_flows.repository import check as check_mod
from backup_flows.repository import chunker as chunker_mod
from backup_flows.repository import config as config_mod
from backup_flows.repository import copy as copy_mod
from backup_flows.repository import crypto
from backup_flows.repository import index as index_mod
from backup_flows.repository import keyfile
from backup_flows.repository import locks
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import opening
from backup_flows.repository import prune as prune_mod
from backup_flows.repository import reader
from backup_flows.repository import repair as repair_mod
from backup_flows.repository import restore_file
from backup_flows.repository import writer
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)


def _remove_created(path, created):
    """Remove ``path`` after a failed restore_disk if that call created
    it."""
    if created:
        try:
            os.unlink(path)
        except OSError as exc:
            LOG.warning('Could not remove %s: %s', path, exc)


class Repository:
    """An opened backup repository; see the module docstring."""

    def __init__(self, url, backend, config, keys, settings):
        self.url = url
        self.backend = backend
        self.config = config
        self.keys = keys
        self.settings = settings
        self.chunker = chunker_mod.Chunker(config['chunker'])
        # CPU-bound work of writers (hash, compress, seal), and reads.
        self.pool = concurrent.futures.ThreadPoolExecutor(
            settings.workers, thread_name_prefix='repository')
        self.read_pool = concurrent.futures.ThreadPoolExecutor(
            settings.read_workers, thread_name_prefix='repository-read')
        self.index = index_mod.Index()

    # -- opening -------------------------------------------------------

    @classmethod
    def init(cls, url, encrypted=False, secret=None, chunk_size=128 << 10,
             settings=None, scrypt_params=None, backend=None):
        """Create a repository at ``url`` and return it opened.

        :param secret: :class:`keyfile.Secret`, required when ``encrypted``.
        :param chunk_size: FastCDC target size, fixed for the repository.
        :param scrypt_params: override scrypt ``n``/``r``/``p`` (tests).
        :param backend: a ready backend instead of loading one from ``url``.
        :raises RepositoryExists: ``url`` already holds a repository.
        """
        backend = backend or backends.load_backend(url)
        opening.check_empty(url, backend)
        if encrypted and secret is None:
            raise exceptions.RepositoryKeyError(
                url=url, reason='an encrypted repository needs a passphrase '
                'or key (config, %s or a file)' % keyfile.PASSPHRASE_ENV)
        config = config_mod.build(encrypted, chunk_size)
        if encrypted:
            keys = crypto.Keys.generate()
            opening.backend_call(url, backend.put, keyfile.KEY_OBJECT,
                                 keyfile.create(keys, secret, config['id'],
                                                scrypt_params))
        else:
            keys = crypto.Keys()
        opening.backend_call(url, backend.put, config_mod.OBJECT,
                             config_mod.encode(config))
        LOG.info('Initialised repository %s (encryption %s)', url,
                 config['encryption'])
        return cls(url, backend, config, keys,
                   settings or config_mod.Settings())

    @classmethod
    def open(cls, url, secret=None, settings=None, backend=None):
        """Open the repository at ``url``.

        :raises RepositoryNotFound, ForeignRepository,
            RepositoryFormatTooNew, RepositoryKeyError: with a message
            saying what to do.
        """
        backend = backend or backends.load_backend(url)
        config = opening.read_config(url, backend)
        keys = crypto.Keys()
        if config['encryption'] != crypto.ENCRYPTION_NONE:
            keys = opening.unlock(url, backend, config, secret)
        return cls(url, backend, config, keys,
                   settings or config_mod.Settings())

    def close(self):
        """Stop the thread pools and close the backend."""
        self.pool.shutdown(wait=True)
        self.read_pool.shutdown(wait=True)
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- locking and index -------------------------------------------

    def lock(self, kind, owner=None, name=None):
        """Take a ``locks.SHARED`` or ``locks.EXCLUSIVE`` lock (see
        locks.py), waiting up to ``lock_wait`` seconds.

        :param owner: what holds it, shown to those it blocks.
        :param name: fixed object name of a shared lock (a flow's).
        :raises RepositoryLocked: a conflicting lock is held.
        """
        try:
            return locks.acquire(self.backend, kind, self.settings.lock_ttl,
                                 self.settings.lock_wait, owner=owner,
                                 name=name)
        except locks.LockConflict as exc:
            raise exceptions.RepositoryLocked(url=self.url, reason=str(exc))

    def load_index(self):
        """(Re)read every index file; return the :class:`index.Index`."""
        self.index = opening.backend_call(self.url, index_mod.Index.load,
                                          self.backend, self.keys)
        return self.index

    # -- backups -------------------------------------------------------

    def start_backup(self):
        """Begin a backup session under a shared lock.

        :returns: a :class:`writer.BackupWriter`; use it as a context
            manager, call ``write_disk(name, stream)`` per disk, then
            ``commit(server, metadata)``.
        """
        lock = self.lock(locks.SHARED)
        try:
            self.load_index()
        except BaseException:
            lock.release()
            raise
        return writer.BackupWriter(self, lock)

    def backup_ids(self):
        """Ids of every backup, oldest first."""
        return sorted(name[len(manifest_mod.PREFIX):] for name, _ in
                      self.backend.list(manifest_mod.PREFIX))

    def load_manifest(self, backup_id):
        """Return the manifest document of ``backup_id``.

        :raises BackupNotFound, RepositoryCorrupted,
            RepositoryFormatTooNew:
        """
        try:
            data = opening.backend_call(self.url, self.backend.get,
                                        manifest_mod.object_name(backup_id))
        except base.ObjectNotFound:
            raise exceptions.BackupNotFound(backup_id=backup_id, url=self.url)
        try:
            return manifest_mod.decode(self.keys, backup_id, data)
        except manifest_mod.ManifestTooNew as exc:
            raise exceptions.RepositoryFormatTooNew(
                what='Manifest of backup %s' % backup_id, url=self.url,
                version=exc.version, supported=manifest_mod.VERSION)
        except manifest_mod.ManifestError as exc:
            raise exceptions.RepositoryCorrupted(
                url=self.url, reason='manifest of backup %s is damaged: %s'
                % (backup_id, exc))

    def load_manifests(self):
        """Return ``(documents, errors)``: readable manifests oldest first
        and ``{backup_id: reason}`` for the others."""
        documents, errors = [], {}
        for backup_id in self.backup_ids():
            try:
                documents.append(self.load_manifest(backup_id))
            except exceptions.BackupNotFound:
                continue
            except exceptions.RepositoryError as exc:
                errors[backup_id] = str(exc)
        return documents, errors

    def list_backups(self, server=None):
        """Summaries (id, server, created_at, disks, size) oldest first.

        Backups whose manifest is unreadable are listed with an ``error``.
        """
        documents, errors = self.load_manifests()
        result = [manifest_mod.summary(d) for d in documents
                  if server is None or d['server'] == server]
        if server is None:
            result.extend({'id': backup_id, 'error': reason}
                          for backup_id, reason in errors.items())
            result.sort(key=lambda s: s['id'])
        return result

    def show_backup(self, backup_id):
        """The full manifest document of ``backup_id``."""
        return self.load_manifest(backup_id)

    def has_backup(self, backup_id):
        """Whether the manifest of ``backup_id`` exists (read directly, not
        from a listing, which may lag); it may still be unreadable."""
        return opening.backend_call(self.url, self.backend.exists,
                                    manifest_mod.object_name(backup_id))

    def forget(self, backup_ids):
        """Delete the manifests of ``backup_ids`` (data goes at prune)."""
        with self.lock(locks.SHARED):
            for backup_id in backup_ids:
                name = manifest_mod.object_name(backup_id)
                if not self.backend.exists(name):
                    raise exceptions.BackupNotFound(backup_id=backup_id,
                                                    url=self.url)
                self.backend.delete(name)
                LOG.info('Forgot backup %s', backup_id)

    # -- reading -----------------------------------------------------------

    def _disk(self, backup_id, disk_name):
        document = self.load_manifest(backup_id)
        for disk in document['disks']:
            if disk['name'] == disk_name:
                return disk
        raise exceptions.NotFound(kind='Disk', ident='%s of backup %s'
                                  % (disk_name, backup_id))

    def _corrupted(self, backup_id, disk, offset, exc):
        return exceptions.RepositoryCorrupted(
            url=self.url, reason='backup %s disk %s at offset %d: %s'
            % (backup_id, disk['name'], offset, exc))

    def iter_extents(self, backup_id, disk_name):
        """Yield ``(offset, length, data_or_None)`` of a disk; ``data`` is
        bytes-like (bytes or memoryview), ``None`` marks a zero run. Holds
        a shared lock (prune waits) while the generator runs.

        :raises RepositoryCorrupted: damaged or missing data, before any
            byte of the damaged chunk is yielded.
        """
        with self.lock(locks.SHARED):
            disk = self._disk(backup_id, disk_name)
            self.load_index()
            try:
                yield from reader.iter_extents(self, disk)
            except reader.ChunkError as exc:
                raise self._corrupted(backup_id, disk, exc.offset, exc)
            finally:
                reader.record_damage(self)

    def read_disk(self, backup_id, disk_name, verify_checksum=True):
        """Yield the bytes of a disk in order (zeros included).

        Every chunk is verified before it is yielded (authenticated by
        AES-GCM for its id when encrypted, its id recomputed when not); with
        ``verify_checksum`` the whole-disk SHA-256 is checked at the end too.

        :raises RepositoryCorrupted: damaged or missing data; no wrong byte
            is ever yielded.
        """
        digest = hashlib.sha256() if verify_checksum else None
        zeros = bytes(1 << 20)
        for _, length, data in self.iter_extents(backup_id, disk_name):
            if data is None:
                while length:
                    piece = zeros if length >= len(zeros) else bytes(length)
                    length -= len(piece)
                    if digest:
                        digest.update(piece)
                    yield piece
                continue
            if digest:
                digest.update(data)
            # bytes for consumers such as HTTP clients (iter_extents may
            # hand out memoryviews).
            yield data if isinstance(data, bytes) else bytes(data)
        if digest:
            disk = self._disk(backup_id, disk_name)
            if digest.hexdigest() != disk['sha256']:
                raise self._corrupted(backup_id, disk, disk['size'],
                                      'whole-disk SHA-256 mismatch')

    def restore_disk(self, backup_id, disk_name, path, sparse=True):
        """Write a disk to ``path`` (file or block device); zero runs are
        holes in a regular file when ``sparse``. Returns bytes written.

        :raises RepositoryCorrupted: damaged or missing data, or the bytes
            written do not have the disk's SHA-256; a file the call created
            is then removed.
        """
        with self.lock(locks.SHARED):
            disk = self._disk(backup_id, disk_name)
            self.load_index()
            created = not os.path.exists(path)
            try:
                return restore_file.write_to_file(self, disk, path,
                                                 sparse=sparse)
            except reader.ChunkError as exc:
                _remove_created(path, created)
                raise self._corrupted(backup_id, disk, exc.offset, exc)
            except reader.ChecksumError as exc:
                _remove_created(path, created)
                raise self._corrupted(backup_id, disk, disk['size'], exc)
            finally:
                reader.record_damage(self)

    def missing_chunks(self, disk, has=None):
        """Hex ids of the chunks and chunk list objects of ``disk`` (a disk
        record) that are not in the index (read it first), or for which
        ``has(chunk_id)`` is false; a list object that cannot be read counts
        as missing (what it lists is not looked at)."""
        has = has or self.index.__contains__
        missing = []
        try:
            for chunk_id, _, _ in reader.disk_ids(self, disk, set()):
                if not has(chunk_id):
                    missing.append(chunk_id.hex())
        except reader.ChunkError as exc:
            missing.append(exc.chunk_id.hex())
        return missing

    # -- maintenance (see check.py, prune.py, copy.py) ----------------

    def check(self, deep=False, documents=None):
        """Verify the repository, or only the backups whose manifests are
        ``documents``; return a report dict (see check.py)."""
        with self.lock(locks.SHARED):
            return check_mod.run(self, deep=deep, documents=documents)

    def repair(self):
        """Deep check, then drop the damaged copies of chunks that have a
        good one, under the exclusive lock; return the report of the
        repository after the repair (see repair.py)."""
        return repair_mod.run(self)

    def prune(self, policy=None, dry_run=False, server=None):
        """Apply ``policy`` (retention.Policy) to every server's backups
        (or only ``server``'s) and collect garbage; see prune.py for the
        result."""
        return prune_mod.run(self, policy, dry_run=dry_run, server=server)

    def stats(self):
        """Logical vs stored sizes and ratios (see check.py)."""
        with self.lock(locks.SHARED):
            return check_mod.stats(self)

    def copy_backup(self, backup_id, target):
        """Copy a backup into ``target`` (another Repository), storing
        only chunks it lacks; return the copy statistics."""
        return copy_mod.copy_backup(self, target, backup_id)

    def rebuild_index(self):
        """Rewrite the index from the pack trailers (exclusive lock)."""
        return repair_mod.rebuild_index(self)
