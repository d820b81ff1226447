"""Tasks writing into the backup repository.

Every task opens the repository from its URL (plain data in the store) and
closes it before returning; nothing but ids and small dicts goes into the
store, except each disk's chunk list (about 100 bytes per chunk), which the
commit task needs to write the manifest.
"""

import datetime
import io

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import progress
from backup_flows import repository
from backup_flows.tasks import base

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

_READ_SIZE = 4 << 20


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


def written_key(disk_name):
    """Store key of the result of writing ``disk_name``."""
    return 'written_%s' % disk_name


class WriteDiskToRepository(base.BackupFlowsTask):
    """Stream one disk from its Glance image into the repository.

    ``disk`` (injected) is the disk's entry in the server definition. The
    chunks are durable and indexed when the task ends; they become part of
    a backup only when :class:`CommitBackup` writes the manifest. Run again
    after a crash, it re-reads the image; chunks already stored are not
    stored twice.

    Reversion strategy: nothing to delete: unreferenced chunks are
    reclaimed by prune, like those of any interrupted backup.
    """

    def execute(self, cloud, repository_url, disk, image_id):
        conn = clients.connect(cloud)
        image = conn.image.get_image(image_id)
        meter = progress.Progress('%s (%s)' % (disk['disk'], image_id[:8]),
                                  total=image.size)
        response = conn.image.download_image(image_id, stream=True)
        try:
            # openstacksdk does not check a streamed answer's status: an
            # error body must never be read as the disk's bytes
            sdk_exc.raise_from_response(response)
            stream = HTTPBodyStream(
                response.iter_content(chunk_size=_READ_SIZE), meter.add)
            with open_repository(repository_url) as repo:
                with repo.start_backup() as session:
                    info = session.write_disk(disk['disk'], stream)
                    record = session.disk_record(disk['disk'])
                    stored = session.stats['stored_bytes']
                    session.release()
        finally:
            response.close()
        meter.finish()
        if image.size is not None and info['size'] != image.size:
            raise exceptions.BackupFlowsError(
                'Image %s of disk %s has %d bytes, %d were read.'
                % (image_id, disk['disk'], image.size, info['size']))
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
                disk_order, **written):
        """``written`` holds one :class:`WriteDiskToRepository` result per
        disk, under ``written_<disk>`` (see :func:`written_key`)."""
        disks = [written[written_key(name)] for name in disk_order]
        meta = dict(backup_meta, disk_stats={
            d['record']['name']: {k: d[k] for k in ('new_bytes',
                                                    'stored_bytes',
                                                    'zero_bytes')}
            for d in disks})
        with open_repository(repository_url) as repo:
            if backup_id in repo.backup_ids():
                LOG.info('Adopting backup %s written before a restart',
                         backup_id)
                return backup_id
            with repo.start_backup() as session:
                for written_disk in disks:
                    record = written_disk['record']
                    missing = session.missing_chunks(record)
                    if missing:
                        raise exceptions.RepositoryCorrupted(
                            url=repository_url,
                            reason='%d chunks of disk %s vanished before '
                                   'the commit (pruned meanwhile?)'
                                   % (len(missing), record['name']))
                    session.add_disk(record)
                session.commit(server=server_id, metadata=meta,
                               backup_id=backup_id,
                               created_at=datetime.datetime.fromisoformat(
                                   backup_meta['created_at']))
        return backup_id

    def revert(self, result, repository_url, backup_id, **kwargs):
        with open_repository(repository_url) as repo:
            if backup_id in repo.backup_ids():
                LOG.info('Forgetting backup %s (revert)', backup_id)
                repo.forget([backup_id])


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
