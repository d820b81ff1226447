"""Tasks writing into the backup repository.

Every task opens the repository from its URL (plain data in the store) and
closes it before returning; nothing but ids, names and sizes goes into the
store: a written disk is its record (name, size, SHA-256, the id of its
chunk list, which is in the repository, and counts), whatever its size.
"""

import datetime
import io
import threading
import time

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import progress
from backup_flows import repository
from backup_flows.repository import locks
from backup_flows.tasks import base
from backup_flows.tasks import image_hash

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

_READ_SIZE = 4 << 20
# Seconds between the commit's looks for chunks of index files not listed.
_INDEX_RETRY_DELAYS = (0, 1, 2, 4, 8, 15)


class HTTPBodyStream(io.RawIOBase):
    """A readable, unbuffered file over an iterator of byte strings."""

    def __init__(self, chunks, on_read=None):
        self._chunks = iter(chunks)
        self._pending = memoryview(b'')
        self._on_read = on_read

    def readable(self):
        return True

    def readinto(self, buffer):
        view = memoryview(buffer).cast('B')
        filled = 0
        while filled < len(view):
            if not self._pending:
                try:
                    self._pending = memoryview(next(self._chunks))
                except StopIteration:
                    break
            count = min(len(self._pending), len(view) - filled)
            view[filled:filled + count] = self._pending[:count]
            self._pending = self._pending[count:]
            filled += count
        if self._on_read and filled:
            self._on_read(filled)
        return filled


def open_repository(url):
    return repository.open_repository(CONF, url=url)


# The shared lock a backup flow holds from before its first write until its
# commit, so that no prune runs in between (see HoldRepositoryLock). It is
# per job and per process and refreshed by its own thread: a killed process
# stops refreshing it and it goes stale after [repository] lock_ttl.
_flow_locks = {}
_flow_locks_guard = threading.Lock()


def flow_lock_name(job_id):
    """Object name of the shared lock of backup job ``job_id``."""
    return '%sflow-%s' % (locks.SHARED_PREFIX, job_id)


def hold_flow_lock(repository_url, job_id):
    """Hold the flow's shared lock in this process: keep it if held and
    still ours, else take it (again, after a resume or a loss)."""
    with _flow_locks_guard:
        held = _flow_locks.pop(job_id, None)
        if held is not None:
            try:
                held[1].check()
                _flow_locks[job_id] = held
                return
            except locks.LockLost as exc:
                LOG.warning('%s; taking it again', exc)
                _close_flow_lock(held)
        repo = open_repository(repository_url)
        try:
            lock = repo.lock(locks.SHARED, owner='backup job %s' % job_id,
                             name=flow_lock_name(job_id))
        except BaseException:
            repo.close()
            raise
        _flow_locks[job_id] = (repo, lock)


def _close_flow_lock(held):
    repo, lock = held
    try:
        lock.release()
    finally:
        repo.close()


def release_flow_lock(job_id):
    """Release the flow's shared lock if this process holds it."""
    with _flow_locks_guard:
        held = _flow_locks.pop(job_id, None)
    if held is not None:
        _close_flow_lock(held)


class HoldRepositoryLock(base.BackupFlowsTask):
    """Take the backup flow's shared repository lock before its first write.

    Held (and refreshed) until :class:`CommitBackup` has written the
    manifest, across every exporter and write task, so a prune waits
    instead of deleting what the backup wrote or deduplicated against.
    The writing tasks of a resumed flow take it again.

    Reversion strategy: release the lock.
    """

    def execute(self, repository_url, job_id):
        hold_flow_lock(repository_url, job_id)

    def revert(self, result, job_id, **kwargs):
        release_flow_lock(job_id)


class WriteDiskToRepository(base.BackupFlowsTask):
    """Stream one disk from its Glance image into the repository.

    ``disk`` (injected) is the disk's entry in the server definition. The
    chunks are durable and indexed when the task ends; they become part of
    a backup only when :class:`CommitBackup` writes the manifest. Run again
    after a crash, it re-reads the image; chunks already stored are not
    stored twice. The bytes read must have the image's size and the hash
    Glance recorded when it stored them (``os_hash_value``): anything else
    fails the task (and the backup).

    Reversion strategy: nothing to delete: unreferenced chunks are
    reclaimed by prune, like those of any interrupted backup.
    """

    def execute(self, cloud, repository_url, disk, image_id, job_id=None):
        if job_id:
            hold_flow_lock(repository_url, job_id)
        conn = clients.connect(cloud)
        image = conn.image.get_image(image_id)
        what = 'Image %s of disk %s' % (image_id, disk['disk'])
        meter = progress.ProgressMeter(self.update_progress,
                                       total=image.size, disk=disk['disk'])
        digest = image_hash.StreamHash(image_hash.algorithm_of(image, what))
        response = conn.image.download_image(image_id, stream=True)
        try:
            # openstacksdk does not check a streamed answer's status: an
            # error body must never be read as the disk's bytes
            sdk_exc.raise_from_response(response)
            stream = HTTPBodyStream(image_hash.hashing(
                response.iter_content(chunk_size=_READ_SIZE), digest),
                meter.add)
            with open_repository(repository_url) as repo:
                with repo.start_backup() as session:
                    info = session.write_disk(disk['disk'], stream)
                    record = session.disk_record(disk['disk'])
                    stored = session.stats['stored_bytes']
                    session.release()
            read_hash = digest.hexdigest()
        finally:
            digest.close()
            response.close()
        meter.finish()
        if image.size is not None and info['size'] != image.size:
            raise exceptions.BackupFlowsError(
                'Image %s of disk %s has %d bytes, %d were read.'
                % (image_id, disk['disk'], image.size, info['size']))
        if read_hash is not None and read_hash != image.hash_value:
            # What was stored is only unreferenced data (prune's).
            raise image_hash.mismatch(
                what, digest.algorithm, read_hash, image.hash_value,
                "its copy in Glance's store changed after Glance hashed "
                "it, or the download was damaged")
        LOG.info('Disk %s: %d bytes, %d new in the repository',
                 disk['disk'], info['size'], info['new_bytes'])
        return {'record': record, 'new_bytes': info['new_bytes'],
                'stored_bytes': stored, 'zero_bytes': info['zero_bytes']}


class CommitBackup(base.BackupFlowsTask):
    """Write the backup's manifest: the commit point of a backup.

    The backup id was chosen when the job was planned, so a resumed task
    that finds the manifest already written adopts it.

    Reversion strategy: forget the backup (delete its manifest) when a
    later task fails; its chunks go at the next prune.
    """

    default_provides = keys.BACKUP_ID

    def execute(self, repository_url, backup_id, server_id, backup_meta,
                disk_order, job_id=None, **written):
        """``written`` holds one :class:`WriteDiskToRepository` result per
        disk, under ``written_<disk>`` (see :func:`keys.written_key`)."""
        if job_id:
            hold_flow_lock(repository_url, job_id)
        try:
            return self._commit(repository_url, backup_id, server_id,
                                backup_meta, disk_order, written)
        finally:
            if job_id:
                release_flow_lock(job_id)

    def _commit(self, repository_url, backup_id, server_id, backup_meta,
                disk_order, written):
        disks = [written[keys.written_key(name)] for name in disk_order]
        meta = dict(backup_meta, disk_stats={
            d['record']['name']: {k: d[k] for k in ('new_bytes',
                                                    'stored_bytes',
                                                    'zero_bytes')}
            for d in disks})
        created_at = datetime.datetime.fromisoformat(
            backup_meta['created_at'])
        with open_repository(repository_url) as repo:
            if _manifest_exists(repo, backup_id):
                LOG.info('Adopting backup %s written before a restart',
                         backup_id)
                return backup_id
            # The index files the write tasks wrote may not be listed yet
            # (listings lag): look again a few times before giving up.
            for delay in _INDEX_RETRY_DELAYS:
                time.sleep(delay)
                with repo.start_backup() as session:
                    missing = {d['record']['name']: session.missing_chunks(
                        d['record']) for d in disks}
                    if not any(missing.values()):
                        for written_disk in disks:
                            session.add_disk(written_disk['record'])
                        session.commit(server=server_id, metadata=meta,
                                       backup_id=backup_id,
                                       created_at=created_at)
                        return backup_id
                    session.release()
        name, chunks = next((n, c) for n, c in missing.items() if c)
        raise exceptions.RepositoryCorrupted(
            url=repository_url, reason='%d chunks of disk %s vanished before '
            'the commit (pruned meanwhile?)' % (len(chunks), name))

    def revert(self, result, repository_url, backup_id, **kwargs):
        with open_repository(repository_url) as repo:
            # Read directly: a manifest written a moment ago may not be
            # listed yet.
            if _manifest_exists(repo, backup_id):
                LOG.info('Forgetting backup %s (revert)', backup_id)
                repo.forget([backup_id])


def _manifest_exists(repo, backup_id):
    try:
        repo.load_manifest(backup_id)
    except exceptions.BackupNotFound:
        return False
    return True


def verify_backup(repo, backup_id, deep=False):
    """Problems of one backup: ``[{'disk', 'problem'}]`` (empty: fine).

    Quick: every chunk is indexed and its pack exists with room for it.
    Deep: every disk is read back, every chunk and the whole-disk SHA-256
    are checked.
    """
    document = repo.show_backup(backup_id)
    report = repo.check(deep=False, documents=[document])
    problems = []
    for affected in report['affected']:
        for disk in affected['disks']:
            problems.append({'disk': disk['name'], 'problem':
                             '%d damaged chunks, first at offset %d'
                             % (disk['bad_chunks'],
                                disk['first_bad_offset'])})
    if deep:
        damaged = {p['disk'] for p in problems}
        for disk in document['disks']:
            if disk['name'] in damaged:
                continue
            try:
                for _ in repo.read_disk(backup_id, disk['name']):
                    pass
            except exceptions.BackupFlowsError as exc:
                problems.append({'disk': disk['name'], 'problem': str(exc)})
    return problems


class VerifyBackup(base.BackupFlowsTask):
    """Quick check of the new backup: every chunk it names is stored.

    The backup's point of no return: once it passed, nothing undoes the
    backup (what follows is best-effort cleanup, and ``job abort`` finishes
    the job instead of reverting it).

    Reversion strategy: nothing to undo (reads only).
    """

    point_of_no_return = True

    def execute(self, repository_url, backup_id):
        with open_repository(repository_url) as repo:
            problems = verify_backup(repo, backup_id)
        if problems:
            raise exceptions.RepositoryCorrupted(
                url=repository_url, reason='backup %s: %s' % (
                    backup_id, '; '.join('%s: %s' % (p['disk'], p['problem'])
                                         for p in problems)))
