"""Writing backups: chunk, deduplicate, compress, seal, pack, index.

A :class:`BackupWriter` is one backup session under a shared lock::

    with repo.start_backup() as writer:
        writer.write_disk('vda', stream)       # any object with readinto/read
        backup_id = writer.commit(server='<server id>', metadata={...})

Data flow of :meth:`BackupWriter.write_disk`: the calling thread reads the
stream in blocks of a few MiB, hands each block to a hashing thread that
keeps the whole-disk SHA-256 in order, cuts it into chunks (FastCDC; chunks
are views of the block, not copies) and groups them into batches of about
2 MiB; all-zero chunks become zero runs. Each batch goes to the repository's
thread pool, which hashes its chunks (chunk ids) and, unless a chunk is
already stored, compresses and seals it. Results are consumed in order and
appended to a pack; full packs are named (SHA-256) and uploaded by one
uploader thread. Blocks and batches keep thread hand-offs to a few per MiB.
At most ``workers + 2`` batches, three blocks being hashed and two packs are
in flight. The disk's chunk list is not held: it is written as list objects
(see chunk_list.py), stored like chunks as each fills, so memory is bounded
whatever the disk size, but for the index (in memory, as in restic and borg)
and the ids of the chunks this session stored (about 100 bytes per new
chunk).

Write order: packs, then the index file naming them (at the latest at the end
of each disk), then at :meth:`BackupWriter.commit` the manifest. Leaving the
``with`` block without committing leaves only unreferenced data, which
prune removes.
"""

import collections
import concurrent.futures
import hashlib

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository import chunk_list
from backup_flows.repository import index as index_mod
from backup_flows.repository import locks
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import pending as pending_mod
from backup_flows.repository import reader

LOG = logging.getLogger(__name__)

# Index files are written at least every this many packs so a very large
# disk does not keep all its index entries in memory.
_PACKS_PER_INDEX = 64
# Chunks are handed to the thread pool in batches of this many bytes (or
# chunks), so thread hand-offs cost little.
_BATCH_BYTES = 2 << 20
_BATCH_CHUNKS = 64


class BackupWriter:
    """One backup session; obtain it from ``Repository.start_backup()``."""

    def __init__(self, repo, lock):
        self._repo = repo
        self._lock = lock
        self._keys = repo.keys
        self._session = set()
        self._builder = pack_mod.PackBuilder()
        self._uploader = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix='pack-upload')
        self._hasher = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix='disk-hash')
        self._uploads = collections.deque()
        self._unindexed = {}
        self._disks = []
        self._closed = False
        self.stats = {'packs': 0, 'new_chunks': 0, 'new_bytes': 0,
                      'stored_bytes': 0}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self._closed:
            self.abort()

    def _prepare(self, data):
        chunk_id = self._keys.chunk_id(data)
        if self.has_chunk(chunk_id):
            return chunk_id, None
        return chunk_id, pack_mod.encode_blob(
            self._keys, chunk_id, data, self._repo.settings.compression_level)

    def _prepare_batch(self, batch):
        return [None if data is None else self._prepare(data)
                for _, data in batch]

    def _upload(self, data):
        pack_id = pack_mod.pack_id(data)
        backend = self._repo.backend
        name = pack_mod.pack_name(pack_id)
        # Packs are named by their content: the same bytes may already be
        # stored as a pack a prune found unused (its index not seen by
        # this session) and is about to delete. Rescue it, and store it
        # again once a prune that may have deleted it meanwhile is over.
        again = backend.exists(name)
        if again:
            pending_mod.rescue(backend, [pack_id])
        backend.put(name, data)
        if again and locks.exclusive_holder(backend) is not None:
            locks.wait_for_exclusive(backend, max(
                self._repo.settings.lock_wait, self._repo.settings.lock_ttl))
            backend.put(name, data)
        return pack_id

    def _upload_done(self, upload):
        future, entries = upload
        self._unindexed[future.result()] = entries
        if len(self._unindexed) >= _PACKS_PER_INDEX:
            self._write_index()

    def _flush_pack(self):
        if not self._builder:
            return
        data, entries = self._builder.finish(self._keys)
        self._builder = pack_mod.PackBuilder()
        self.stats['packs'] += 1
        self.stats['stored_bytes'] += len(data)
        self._uploads.append((self._uploader.submit(self._upload, data),
                              entries))
        while len(self._uploads) > 1:
            self._upload_done(self._uploads.popleft())

    def _write_index(self):
        if not self._unindexed:
            return
        name, data = index_mod.encode(self._keys, self._unindexed)
        self._repo.backend.put(name, data)
        for pack_id, entries in self._unindexed.items():
            self._repo.index.add_pack(pack_id, entries)
        self._repo.index.files[name] = list(self._unindexed)
        self._unindexed = {}

    def _store(self, chunk_id, stored, length):
        if stored is None or chunk_id in self._session:
            return
        self._session.add(chunk_id)
        self._builder.add(chunk_id, stored, length)
        self.stats['new_chunks'] += 1
        self.stats['new_bytes'] += length
        if len(self._builder) >= self._repo.settings.pack_size:
            self._flush_pack()

    def _add_prepared(self, batch, prepared, lister):
        """Store the chunks of ``batch`` (``prepared``: the future of
        :meth:`_prepare_batch`) and add them to the disk's chunk list
        (``lister``, a :class:`chunk_list.ListWriter`)."""
        for (length, data), result in zip(batch, prepared.result(),
                                          strict=True):
            if data is None:
                lister.add_zeros(length)
                continue
            chunk_id, stored = result
            self._store(chunk_id, stored, length)
            lister.add_chunk(chunk_id, length)

    def chunk_list_writer(self):
        """A :class:`chunk_list.ListWriter` storing its list objects in
        this session (as chunks); give it to :meth:`disk_from_list` when
        done."""
        return chunk_list.ListWriter(
            lambda data: self.store_chunk(data)[0])

    @staticmethod
    def disk_from_list(name, size, sha256, lister):
        """The disk record (manifest version 2) of a finished list."""
        return {'name': name, 'size': size, 'sha256': sha256,
                'chunk_list': lister.finish().hex(),
                'chunk_count': lister.chunk_count,
                'zero_bytes': lister.zero_bytes}

    def write_disk(self, name, stream):
        """Store the disk read from ``stream`` (to its end) as ``name``.

        :returns: the disk record (name, size, sha256, zero_bytes,
            new_bytes) that :meth:`commit` will put in the manifest.
        """
        if self._closed:
            raise ValueError('backup session is closed')
        digest = hashlib.sha256()
        lister = self.chunk_list_writer()
        pending = collections.deque()
        limit = self._repo.settings.workers + 2
        pool = self._repo.pool
        size = zero_bytes = 0
        new_before = self.stats['new_bytes']

        hashing = collections.deque()

        def hash_block(block):
            # One thread adds the blocks to the whole-disk hash in order.
            hashing.append(self._hasher.submit(digest.update, block))
            while len(hashing) > 2:
                hashing.popleft().result()

        def submit(batch):
            pending.append((batch, pool.submit(self._prepare_batch, batch)))

        def drain_one():
            self._add_prepared(*pending.popleft(), lister)

        batch, batch_bytes = [], 0
        for length, data in self._repo.chunker.chunks(stream, hash_block):
            size += length
            batch.append((length, data))
            if data is None:
                zero_bytes += length
            else:
                batch_bytes += length
            if batch_bytes >= _BATCH_BYTES or len(batch) >= _BATCH_CHUNKS:
                submit(batch)
                batch, batch_bytes = [], 0
                while len(pending) > limit:
                    drain_one()
        if batch:
            submit(batch)
        while pending:
            drain_one()
        while hashing:
            hashing.popleft().result()
        record = self.disk_from_list(name, size, digest.hexdigest(), lister)
        self.add_disk(record)
        LOG.info('Disk %s: %d bytes, %d zero, %d new', name, size,
                 zero_bytes, self.stats['new_bytes'] - new_before)
        return {'name': name, 'size': size, 'sha256': record['sha256'],
                'zero_bytes': zero_bytes,
                'new_bytes': self.stats['new_bytes'] - new_before}

    def has_chunk(self, chunk_id):
        """Whether ``chunk_id`` is stored (in a copy not known to be
        damaged: a chunk whose copies are all damaged is stored again) or
        queued in this session."""
        return (chunk_id in self._session or
                self._repo.index.has_good_copy(chunk_id))

    def store_chunk(self, data):
        """Store one chunk unless present; return ``(chunk_id, is_new)``."""
        chunk_id, stored = self._prepare(data)
        is_new = stored is not None and chunk_id not in self._session
        self._store(chunk_id, stored, len(data))
        return chunk_id, is_new

    def add_disk(self, record):
        """Make every chunk written so far durable and indexed, then add
        the disk ``record`` (name, size, sha256, chunk_list, chunk_count,
        zero_bytes) to the backup."""
        manifest_mod.validate_disks([record])
        if any(d['name'] == record['name'] for d in self._disks):
            raise ValueError('disk %s written twice' % record['name'])
        self._flush_pack()
        while self._uploads:
            self._upload_done(self._uploads.popleft())
        self._write_index()
        self._disks.append(record)

    def commit(self, server, metadata=None, backup_id=None,
               created_at=None):
        """Write the manifest (the commit point); return the backup id.

        :param server: key grouping backups for retention (server id).
        :param metadata: JSON-serialisable server definition and anything
            else the flow wants to keep with the backup.
        :param backup_id: and ``created_at`` (aware datetime): reuse the
            identity of a copied backup; normally left out.
        """
        if self._closed:
            raise ValueError('backup session is closed')
        if not self._disks:
            raise ValueError('a backup needs at least one disk')
        self._confirm_before_commit()
        now = created_at or manifest_mod.utcnow()
        backup_id = backup_id or manifest_mod.new_backup_id(now)
        document = manifest_mod.build(backup_id, server, metadata or {},
                                      self._disks, now)
        self._repo.backend.put(manifest_mod.object_name(backup_id),
                               manifest_mod.encode(self._keys, document))
        LOG.info('Committed backup %s of %s (%d disks)', backup_id, server,
                 len(self._disks))
        self._close()
        return backup_id

    def _confirm_before_commit(self):
        """Make sure every chunk the manifest names is there and stays.

        Listings lag, so a prune may have started without seeing this
        session's lock: re-check the lock, wait out a running prune
        (``locks/exclusive`` read directly), then check the chunks this
        session did not store against a fresh index and rescue those only
        kept in packs prune found unused (see pending.py). The lock is read
        again after the rescues: a prune starting later sees them.

        :raises RepositoryCorrupted: chunks were deleted meanwhile.
        :raises RepositoryLocked: a prune still runs after ``lock_ttl``.
        """
        repo = self._repo
        while True:
            try:
                self._lock.check()
            except locks.LockLost as exc:
                LOG.warning('%s; taking the lock again', exc)
                self._lock.release()
                self._lock = repo.lock(locks.SHARED)
            holder = locks.wait_for_exclusive(
                repo.backend, max(repo.settings.lock_wait,
                                  repo.settings.lock_ttl))
            if holder is not None:
                raise exceptions.RepositoryLocked(
                    url=repo.url, reason=str(locks.LockConflict(holder)))
            gone = pending_mod.confirm_references(
                repo.backend, self._keys, self._reused(), repo.index)
            if gone:
                raise exceptions.RepositoryCorrupted(
                    url=repo.url, reason='%d chunks of this backup were '
                    'deleted by a prune before its commit (first %s); '
                    'run the backup again' % (len(gone), gone[0].hex()))
            if locks.exclusive_holder(repo.backend) is None:
                return

    def _reused(self):
        """Yield the ids of the chunks and list objects the disks of this
        session reference and it did not store itself."""
        seen = set()
        for disk in self._disks:
            for chunk_id, _, _ in reader.disk_ids(self._repo, disk, seen):
                if chunk_id not in self._session:
                    yield chunk_id

    def disk_record(self, name):
        """The record of a disk written in this session (ids and sizes:
        its chunk list is in the repository), for a later session's
        :meth:`add_disk` (a flow writes each disk in its own task and
        commits in another)."""
        for record in self._disks:
            if record['name'] == name:
                return record
        raise KeyError(name)

    def missing_chunks(self, record):
        """Hex ids of the chunks and list objects of ``record`` that the
        repository does not hold (see :meth:`has_chunk`)."""
        return self._repo.missing_chunks(record, has=self.has_chunk)

    def release(self):
        """End the session without a manifest; what it wrote is durable
        and indexed but unreferenced until a later session commits it."""
        self._close()

    def abort(self):
        """Give up the session; written data stays until prune."""
        LOG.warning('Backup session aborted; unreferenced data is left '
                    'for prune')
        self._close()

    def _close(self):
        self._closed = True
        for future, _ in self._uploads:
            future.cancel()
        self._uploader.shutdown(wait=True)
        self._hasher.shutdown(wait=True)
        self._lock.release()
