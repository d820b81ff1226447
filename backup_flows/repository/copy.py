"""Copying a backup to another repository (off-site copies).

Only chunks the target lacks are stored. When both repositories compute the
same chunk ids (both unencrypted, or encrypted with the same id key) a chunk
present in the target is not even read; otherwise each chunk is read,
re-identified with the target's keys and stored only when missing. Reads run
a few chunks ahead on the source's thread pool (bounded memory). The
manifest is committed in the target last, under the same backup id,
creation time, server and metadata.
"""

import collections

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository import locks
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import reader

LOG = logging.getLogger(__name__)


def _same_ids(source, target):
    probe = b'backup-flows chunk id probe'
    return source.keys.chunk_id(probe) == target.keys.chunk_id(probe)


def _copy_disk(source, session, disk, same_ids, result):
    lister = session.chunk_list_writer()
    # In disk order: (length, None) zero runs, (length, chunk id) chunks
    # the target has, (length, future of the chunk's bytes) the others.
    pending = collections.deque()
    limit = source.settings.read_workers + 2

    def corrupted(exc):
        return exceptions.RepositoryCorrupted(
            url=source.url, reason='backup %s disk %s: %s'
            % (result['backup'], disk['name'], exc))

    def drain_one():
        length, value = pending.popleft()
        if value is None:
            lister.add_zeros(length)
            return
        if isinstance(value, bytes):
            lister.add_chunk(value, length)
            return
        try:
            data = value.result()
        except reader.ChunkError as exc:
            raise corrupted(exc)
        chunk_id, is_new = session.store_chunk(data)
        if is_new:
            result['chunks_copied'] += 1
            result['bytes_copied'] += len(data)
        lister.add_chunk(chunk_id, len(data))

    try:
        for chunk_id, length in reader.disk_chunks(source, disk):
            if chunk_id is not None:
                result['chunks'] += 1
                if not (same_ids and session.has_chunk(chunk_id)):
                    chunk_id = source.read_pool.submit(
                        reader.load_chunk, source, chunk_id)
            pending.append((length, chunk_id))
            while len(pending) > limit:
                drain_one()
    except reader.ChunkError as exc:
        raise corrupted(exc)
    while pending:
        drain_one()
    session.add_disk(session.disk_from_list(disk['name'], disk['size'],
                                            disk['sha256'], lister))


def copy_backup(source, target, backup_id):
    """Copy ``backup_id`` from ``source`` to ``target`` (Repositories).

    :returns: ``{"backup": id, "chunks": n, "chunks_copied": n,
        "bytes_copied": n}``
    :raises RepositoryCorrupted: a source chunk is damaged (nothing is
        committed in the target).
    """
    with source.lock(locks.SHARED):
        document = source.load_manifest(backup_id)
        if target.backend.exists(manifest_mod.object_name(backup_id)):
            raise exceptions.RepositoryError(
                url=target.url,
                reason='backup %s is already there' % backup_id)
        source.load_index()
        same_ids = _same_ids(source, target)
        result = {'backup': backup_id, 'chunks': 0, 'chunks_copied': 0,
                  'bytes_copied': 0}
        with target.start_backup() as session:
            for disk in document['disks']:
                _copy_disk(source, session, disk, same_ids, result)
            session.commit(document['server'], document['metadata'],
                           backup_id=backup_id,
                           created_at=manifest_mod.created_at(document))
    LOG.info('Copied backup %s from %s to %s: %d of %d chunks', backup_id,
             source.url, target.url, result['chunks_copied'],
             result['chunks'])
    return result
