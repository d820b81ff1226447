"""Restore drills: prove, through the cloud's APIs, that a backup restores.

A drill restores a backup onto a throw-away server named
``drill-<backup id>`` (the code path of ``restore``, default mapping), backs
that server up into a scratch repository (the code path of ``backup
create``) and compares every disk's size and SHA-256 with the backup's
manifest. Disks are matched by what they restore, not by device name: the
root disk with the root disk, each restored volume with the disk it was
restored from. The throw-away server, its volumes, its image and the scratch
repository are deleted afterwards, also when anything failed; the restore
and backup flows revert what they created themselves.

A guest that writes to its disks while it boots (journal replay, logs)
changes them before they are read back: the drill then reports those disks
as different. Drill servers whose guests leave their disks alone, or disks
the guest does not mount.
"""

import hashlib
import os
import shutil
import tempfile

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import repository
from backup_flows.cloud import server_definition as definition
from backup_flows.cloud import snapshot_sets
from backup_flows.cloud import waits
from backup_flows.operations import backups
from backup_flows.operations import restores
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

_ROOT_ROLES = (definition.ROLE_ROOT_IMAGE, definition.ROLE_ROOT_VOLUME)


def _failed(backup_id, reason, exit_code=exceptions.EXIT_FAILED):
    error = exceptions.BackupFlowsError(
        'Drill of backup %s failed: %s' % (backup_id, reason))
    error.exit_code = exit_code
    return error


def drill_name(backup_id):
    """Name of the throw-away server (its volumes and image start so)."""
    return 'drill-%s' % backup_id


def verify(backup_id, url=None, deep=False):
    """``backup verify --drill``: check the repository, then drill."""
    url = backups.repository_url(url)
    result = backups.verify(backup_id, url=url, deep=deep)
    result['drill'] = run(backup_id, url=url)
    return result


def run(backup_id, url=None):
    """Restore a backup onto a throw-away server and compare its disks.

    Returns ``{'server_id', 'disks': [{'name', 'expected', 'actual',
    'ok'}], 'cleaned_up'}``. Raises
    :class:`~backup_flows.exceptions.BackupFlowsError` when a disk differs,
    the restore or the read-back fails, or something could not be deleted.
    """
    url = backups.repository_url(url)
    with backups.open_repository(url) as repo:
        manifest = repo.show_backup(backup_id)
    original = (manifest.get('metadata') or {}).get('server') or {}
    scratch = tempfile.mkdtemp(prefix='drill-%s-' % backup_id,
                               dir=_scratch_parent())
    restored = None
    try:
        try:
            restored = restores.restore(backup_id,
                                        server_name=drill_name(backup_id),
                                        repository_url=url)
            disks = _compare(manifest, original, restored, scratch)
        except exceptions.BackupFlowsError as exc:
            raise _failed(backup_id, exc, exc.exit_code) from exc
    finally:
        leftovers = _clean_up(restored, scratch)
    if leftovers:
        raise _failed(backup_id, 'could not delete what it created: %s'
                      % ', '.join(leftovers))
    bad = [disk['name'] for disk in disks if not disk['ok']]
    if bad:
        raise _failed(backup_id, 'the restored disks %s differ from the '
                      'backup (%s)' % (', '.join(bad), '; '.join(
                          '%s: expected %s, got %s' % (
                              d['name'], _describe(d['expected']),
                              _describe(d['actual']))
                          for d in disks if not d['ok'])))
    return {'server_id': restored['server_id'], 'disks': disks,
            'cleaned_up': True}


def _scratch_parent():
    os.makedirs(CONF.state_path, mode=0o700, exist_ok=True)
    return CONF.state_path


def _cloud(restored):
    # restores.restore reports the default cloud as "(default)".
    return None if restored['cloud'] == '(default)' else restored['cloud']


def _describe(state):
    if state is None:
        return 'no such disk'
    return '%s bytes, %s' % (state['size'], state['checksum'])


def _restored_sources(original, restored):
    """Map each original disk name to where it was restored.

    The restore plans the root disk first, then the others in definition
    order, and returns the ids of the volumes it created in that order.
    """
    disks = original.get('disks') or []
    ordered = ([d for d in disks if d['role'] in _ROOT_ROLES] +
               [d for d in disks if d['role'] not in _ROOT_ROLES])
    with_volume = [d['disk'] for d in ordered
                   if d['role'] != definition.ROLE_ROOT_IMAGE]
    sources = dict(zip(with_volume, restored['volume_ids'], strict=True))
    for disk in ordered:
        if disk['role'] == definition.ROLE_ROOT_IMAGE:
            sources[disk['disk']] = 'root'
    return [(d['disk'], sources[d['disk']]) for d in ordered]


def _compare(manifest, original, restored, scratch):
    """Back the restored server up into ``scratch``; compare the disks."""
    url = os.path.join(scratch, 'repository')
    repository.init_repository(CONF, url=url).close()
    # the restored server's ephemeral disk is the flavor's new, empty one:
    # the drill compares the disks the backup holds
    copy = backups.create(restored['server_id'], url=url,
                          cloud=_cloud(restored), local_disks='skip')
    stored = {disk['name']: disk for disk in manifest['disks']}
    with repository.open_repository(CONF, url=url) as repo:
        document = repo.show_backup(copy['id'])
        read_back = {disk['name']: disk for disk in document['disks']}
        by_source = {}
        for disk in document['metadata']['server']['disks']:
            key = ('root' if disk['role'] == definition.ROLE_ROOT_IMAGE
                   else disk.get('volume_id'))
            by_source[key] = disk['disk']
        result = []
        for name, source in _restored_sources(original, restored):
            expected = stored[name]
            actual_name = by_source.get(source)
            actual = None
            if actual_name is not None:
                actual = _actual(repo, copy['id'], read_back[actual_name],
                                 expected['size'])
            result.append({
                'name': name,
                'expected': {'size': expected['size'],
                             'checksum': 'sha256:%s' % expected['sha256']},
                'actual': actual,
                'ok': actual is not None and actual['size'] ==
                expected['size'] and actual['checksum'] ==
                'sha256:%s' % expected['sha256']})
    return result


def _actual(repo, backup_id, disk, size):
    """Size and checksum of a read-back disk, as backed up.

    A restored volume is a whole number of GiB and a root disk as large as
    the flavor's: a disk larger than the backed-up one holds its bytes
    followed by zeros. Its checksum is then the one of its first ``size``
    bytes, and its size the backed-up one when the rest is zeros.
    """
    if disk['size'] <= size:
        return {'name': disk['name'], 'size': disk['size'],
                'checksum': 'sha256:%s' % disk['sha256']}
    digest = hashlib.sha256()
    pos = 0
    tail_zero = True
    for data in repo.read_disk(backup_id, disk['name']):
        head = data[:max(0, size - pos)]
        digest.update(head)
        if len(head) < len(data) and data[len(head):].count(0) != (
                len(data) - len(head)):
            tail_zero = False
        pos += len(data)
    return {'name': disk['name'], 'size': size if tail_zero else disk['size'],
            'checksum': 'sha256:%s' % digest.hexdigest()}


def _clean_up(restored, scratch):
    """Delete the throw-away server, its volumes and image, and the scratch
    repository; return what could not be deleted."""
    leftovers = []
    shutil.rmtree(scratch, ignore_errors=True)
    if os.path.exists(scratch):
        leftovers.append('scratch repository %s' % scratch)
    if restored is None:
        return leftovers
    cloud = _cloud(restored)
    job_id = restored['job_id']
    try:
        conn = clients.connect(cloud)
        servers = {restored['server_id']} | {
            srv.id for srv in conn.compute.servers(details=True)
            if (srv.metadata or {}).get(server_tasks.JOB_ID) == job_id}
        volumes = set(restored['volume_ids']) | {
            vol.id for vol in conn.block_storage.volumes()
            if (vol.metadata or {}).get(volume_tasks.JOB_ID) == job_id}
        images = {img.id for img in conn.image.images()
                  if snapshot_sets.image_properties(img).get(
                      image_tasks.JOB_ID) == job_id}
        if restored['image_id']:
            images.add(restored['image_id'])
    except (sdk_exc.SDKException, exceptions.BackupFlowsError):
        LOG.exception('Drill: could not list what job %s created', job_id)
        return leftovers + ['server %s and its disks (job %s)' % (
            restored['server_id'], job_id)]
    for server_id in sorted(servers):
        if not _quietly(server_tasks.delete_server, conn, server_id):
            leftovers.append('server %s' % server_id)
    for volume_id in sorted(volumes):
        if not _quietly(_delete_released_volume, conn, volume_id):
            leftovers.append('volume %s' % volume_id)
    for image_id in sorted(images):
        if not _quietly(_delete_image, conn, image_id):
            leftovers.append('image %s' % image_id)
    LOG.info('Drill: deleted server(s) %s, volumes %s, images %s',
             ', '.join(sorted(servers)), ', '.join(sorted(volumes)) or '-',
             ', '.join(sorted(images)) or '-')
    return leftovers


def _quietly(delete, conn, ident):
    try:
        delete(conn, ident)
    except (sdk_exc.SDKException, exceptions.BackupFlowsError):
        LOG.exception('Drill: could not delete %s', ident)
        return False
    return True


def _delete_released_volume(conn, volume_id):
    # The volumes of a deleted server are detached asynchronously.
    try:
        waits.wait_for('Volume', volume_id,
                       lambda: conn.block_storage.get_volume(volume_id),
                       lambda vol: vol.status in ('available', 'error'))
    except exceptions.NotFound:
        return
    volume_tasks.delete_volume(conn, volume_id)


def _delete_image(conn, image_id):
    conn.image.delete_image(image_id, ignore_missing=True)
    waits.wait_for_delete('Image', image_id,
                          lambda: conn.image.get_image(image_id))
