"""Helpers for functional tests against the local OpenStack (tools/minicloud).

The minicloud keeps everything under its data directory: ``$MINICLOUD_HOME``
when set, else ``/var/lib/backup-flows-minicloud`` for root and
``~/.local/share/backup-flows-minicloud`` for other users (the same rule as
``tools/minicloud/minicloud``). From there this module finds clouds.yaml,
server disk files, volume files and the per-server event log.

Tests subclass :class:`MiniCloudTestCase`; when the cloud is not running the
test fails (never skips) and says how to start it.
"""

import hashlib
import json
import os
import subprocess
import time

from openstack import exceptions as sdk_exc
import testtools

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MINICLOUD = os.path.join(TOP, 'tools', 'minicloud', 'minicloud')
BASE_IMAGE = 'minicloud-base'
BASE_IMAGE_NOAGENT = 'minicloud-base-noagent'
FLAVOR = 'm1.tiny'  # 1 GiB root disk
SMALL_FLAVOR = 'm1.nano'  # root disk as large as the image (64 MiB)
NETWORK = 'minicloud-net'
WAIT = 180


class MiniCloudNotRunning(Exception):
    """The minicloud is not running or not ready."""


def home():
    """The minicloud's data directory."""
    if os.environ.get('MINICLOUD_HOME'):
        return os.path.abspath(os.environ['MINICLOUD_HOME'])
    if os.geteuid() == 0:
        return '/var/lib/backup-flows-minicloud'
    return os.path.expanduser('~/.local/share/backup-flows-minicloud')


def clouds_yaml():
    """Path of the clouds.yaml written by ``minicloud start``."""
    return os.path.join(home(), 'clouds.yaml')


def _alive(svc):
    try:
        with open('/proc/%d/stat' % svc['pid']) as f:
            start = f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError, KeyError, TypeError):
        return False
    return start == svc.get('start_time')


def check_running():
    """Raise MiniCloudNotRunning unless every minicloud service runs."""
    state_file = os.path.join(home(), 'run', 'state.json')
    hint = ('start it with: tools/minicloud/minicloud start '
            '(MINICLOUD_HOME=%s)' % home())
    try:
        with open(state_file) as f:
            state = json.load(f)
    except (OSError, ValueError):
        raise MiniCloudNotRunning('minicloud is not running; ' + hint)
    dead = [n for n, s in state.get('services', {}).items() if not _alive(s)]
    if not state.get('ready') or dead or not state.get('services'):
        raise MiniCloudNotRunning('minicloud is not ready (dead: %s); %s'
                                  % (', '.join(dead) or 'none', hint))
    if not os.path.exists(clouds_yaml()):
        raise MiniCloudNotRunning('no %s; %s' % (clouds_yaml(), hint))


def connection(cloud='minicloud'):
    """An openstacksdk Connection to one clouds.yaml entry.

    ``minicloud`` (project demo, non-admin), ``minicloud-alt`` (project
    alt, non-admin) or ``minicloud-admin``.
    """
    import openstack.config
    import openstack.connection
    os.environ.setdefault('OS_CLIENT_CONFIG_FILE', clouds_yaml())
    config = openstack.config.OpenStackConfig(
        config_files=[clouds_yaml()], vendor_files=[])
    return openstack.connection.Connection(
        config=config.get_one(cloud=cloud))


def server_disk_path(server_id):
    """Root disk file of an image-backed server (none if boot-from-volume)."""
    return os.path.join(home(), 'nova', 'instances', server_id, 'disk')


def volume_path(volume_id):
    """File holding a Cinder volume's bytes."""
    return os.path.join(home(), 'cinder', 'volumes', 'volume-' + volume_id)


def snapshot_path(snapshot_id):
    """File holding a Cinder snapshot's bytes."""
    return os.path.join(home(), 'cinder', 'volumes',
                        'snapshot-' + snapshot_id)


def read_disk(path, offset=0, length=None):
    """Bytes of a disk/volume file from offset (to the end by default)."""
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read() if length is None else f.read(length)


def write_disk(path, offset, data):
    """Simulate a guest write: write data at offset and fsync."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def server_events(server_id):
    """The virt driver's event log of a server, oldest first.

    Each entry is a dict with at least ``time`` (epoch seconds) and
    ``event``: spawn, rebuild, destroy, snapshot, pause, unpause, suspend,
    resume, power_off, power_on, reboot, quiesce, unquiesce,
    quiesce_failed, unquiesce_failed, attach, detach, extend_volume.
    """
    path = os.path.join(home(), 'nova', 'minicloud', 'events',
                        server_id + '.jsonl')
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


_CHUNK = 4 << 20
_ZEROS = bytes(_CHUNK)


def sha256_of(path, length=None):
    """SHA-256 hex digest of a file (or of its first length bytes).

    Holes of sparse files are hashed as zeros without reading them: disks
    and volumes are mostly holes and reading those costs more than hashing.
    """
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        fd = f.fileno()
        end = os.fstat(fd).st_size
        if length is not None:
            end = min(end, length)
        pos = 0
        while pos < end:
            try:
                data = min(os.lseek(fd, pos, os.SEEK_DATA), end)
            except OSError:  # ENXIO: only a hole is left
                data = end
            while pos < data:
                n = min(_CHUNK, data - pos)
                h.update(_ZEROS[:n] if n < _CHUNK else _ZEROS)
                pos += n
            if pos >= end:
                break
            hole = min(os.lseek(fd, pos, os.SEEK_HOLE), end)
            while pos < hole:
                chunk = os.pread(fd, min(_CHUNK, hole - pos), pos)
                if not chunk:
                    return h.hexdigest()
                h.update(chunk)
                pos += len(chunk)
    return h.hexdigest()


def sha256_of_bytes(chunks):
    """SHA-256 hex digest of an iterable of byte chunks."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def restart_service(name):
    """Restart one minicloud service (e.g. nova-compute) and wait for it."""
    subprocess.run([MINICLOUD, 'restart-service', name], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for_status(get, resource_id, status, failures=('error',),
                    wait=WAIT, **attrs):
    """Fetch a resource until it shows status (and attrs); return it.

    ``get`` is a proxy getter such as ``conn.block_storage.get_volume``.
    Unlike openstacksdk's ``wait_for_status``, which returns at once when
    the object passed in already shows the wanted status, this always
    fetches first: after an asynchronous action (extend, revert, restore)
    the caller's object still says ``available`` from before the action.
    Raises ``ResourceFailure`` on a status in failures and
    ``ResourceTimeout`` after wait seconds.
    """
    from openstack import exceptions
    deadline = time.time() + wait
    while True:
        res = get(resource_id)
        current = (res.status or '').lower()
        if current in failures:
            raise exceptions.ResourceFailure(
                '%s went %s' % (resource_id, res.status))
        if current == status and all(getattr(res, k) == v
                                     for k, v in attrs.items()):
            return res
        if time.time() > deadline:
            raise exceptions.ResourceTimeout(
                '%s is %s, not %s %s after %d s'
                % (resource_id, res.status, status, attrs, wait))
        time.sleep(0.5)


def _wait_settled(get, resource_id, busy, wait=WAIT):
    """Wait while a resource's status is in busy; None once it is gone."""
    from openstack import exceptions
    deadline = time.time() + wait
    while True:
        try:
            res = get(resource_id)
        except exceptions.NotFoundException:
            return None
        if res.status not in busy or time.time() > deadline:
            return res
        time.sleep(0.5)


_VOLUME_BUSY = ('creating', 'attaching', 'detaching', 'in-use', 'extending',
                'reverting', 'restoring-backup', 'backing-up', 'downloading',
                'uploading')
_SNAPSHOT_BUSY = ('creating', 'restoring', 'deleting', 'backing-up')
_BACKUP_BUSY = ('creating', 'restoring', 'deleting')


class MiniCloudTestCase(testtools.TestCase):
    """Base class: fails (never skips) when the minicloud is not running.

    Provides ``self.conn`` (demo, non-admin) and ``self.admin_conn`` and
    helpers that create resources and register their cleanup.
    """

    def setUp(self):
        super().setUp()
        try:
            check_running()
        except MiniCloudNotRunning as e:
            self.fail(str(e))
        self.conn = connection('minicloud')
        self.admin_conn = connection('minicloud-admin')

    def _name(self, kind):
        return 'ft-%s-%s-%d' % (self.id().rsplit('.', 1)[-1][:30], kind,
                                int(time.time() * 1000) % 10 ** 8)

    # -- servers with disks holding known bytes --------------------------

    # (offset, length) regions written by write_generation: within the
    # 64 MiB root disk of a SMALL_FLAVOR server (volumes are 1 GiB).
    REGIONS = ((1 << 20, 256 << 10), ((30 << 20) + 4096, 64 << 10),
               (60 << 20, 128 << 10))

    def make_server(self, volumes=0, image=BASE_IMAGE, flavor=SMALL_FLAVOR):
        """A server with ``volumes`` attached 1 GiB volumes."""
        server = self.create_server(image=image, flavor=flavor)
        attached = []
        for _ in range(volumes):
            volume = self.create_volume(size=1)
            self.attach_volume(server, volume)
            attached.append(volume)
        return server, attached

    @staticmethod
    def disk_paths(server, volumes):
        """Root disk file, then the volumes' files."""
        return ([server_disk_path(server.id)] +
                [volume_path(v.id) for v in volumes])

    def write_generation(self, paths, generation):
        """Write distinct bytes into every region of every disk; return
        the disks' SHA-256."""
        for n, path in enumerate(paths):
            for offset, length in self.REGIONS:
                pattern = ('gen%d-disk%d-off%d|' % (generation, n, offset)
                           ).encode()
                write_disk(path, offset,
                           (pattern * (length // len(pattern) + 1))[:length])
        return [sha256_of(p) for p in paths]

    # -- servers ------------------------------------------------------------

    def create_server(self, image=BASE_IMAGE, flavor=FLAVOR, conn=None,
                      **kwargs):
        """Boot a server on minicloud-net and wait until ACTIVE."""
        conn = conn or self.conn
        img = conn.image.find_image(image, ignore_missing=False)
        flv = conn.compute.find_flavor(flavor, ignore_missing=False)
        net = conn.network.find_network(NETWORK, ignore_missing=False)
        args = dict(name=self._name('server'), flavor_id=flv.id,
                    networks=[{'uuid': net.id}])
        if 'block_device_mapping' not in kwargs:
            args['image_id'] = img.id
        args.update(kwargs)
        server = conn.compute.create_server(**args)
        self.addCleanup(self._delete_server, conn, server.id)
        return conn.compute.wait_for_server(server, status='ACTIVE',
                                            wait=WAIT)

    @staticmethod
    def _delete_server(conn, server_id):
        server = conn.compute.find_server(server_id)
        if server is None:
            return
        conn.compute.delete_server(server, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=WAIT)

    def wait_image_active(self, image_id, conn=None):
        conn = conn or self.conn
        deadline = time.time() + WAIT
        while True:
            image = conn.image.get_image(image_id)
            if image.status == 'active':
                return image
            if image.status in ('killed', 'deleted', 'deactivated'):
                self.fail('image %s went %s' % (image_id, image.status))
            if time.time() > deadline:
                self.fail('image %s still %s' % (image_id, image.status))
            time.sleep(0.5)

    def cleanup_image(self, image_id, conn=None):
        conn = conn or self.conn
        self.addCleanup(conn.image.delete_image, image_id,
                        ignore_missing=True)

    def download_image_sha256(self, image_id, conn=None):
        conn = conn or self.conn
        resp = conn.image.download_image(image_id, stream=True)
        return sha256_of_bytes(resp.iter_content(chunk_size=4 << 20))

    # -- volumes ------------------------------------------------------------

    def create_volume(self, size=1, conn=None, **kwargs):
        conn = conn or self.conn
        volume = conn.block_storage.create_volume(
            size=size, name=self._name('volume'), **kwargs)
        self.addCleanup(self._delete_volume, conn, volume.id)
        return conn.block_storage.wait_for_status(
            volume, status='available', failures=['error'], wait=WAIT)

    def wait_volume(self, volume_id, status='available', conn=None,
                    **attrs):
        """Wait (fetching afresh) until a volume has status and attrs."""
        conn = conn or self.conn
        return wait_for_status(
            conn.block_storage.get_volume, getattr(volume_id, 'id', volume_id),
            status, failures=('error', 'error_extending', 'error_restoring'),
            **attrs)

    @staticmethod
    def _delete_volume(conn, volume_id):
        # An action still running (detach, revert, restore) makes the
        # delete fail with 400: let it finish first.
        volume = _wait_settled(conn.block_storage.get_volume, volume_id,
                               _VOLUME_BUSY)
        if volume is None:
            return
        conn.block_storage.delete_volume(volume_id, ignore_missing=True)
        conn.block_storage.wait_for_delete(volume, wait=WAIT)

    def create_snapshot(self, volume_id, conn=None, **kwargs):
        conn = conn or self.conn
        snap = conn.block_storage.create_snapshot(
            volume_id=volume_id, name=self._name('snap'), **kwargs)
        self.addCleanup(self._delete_snapshot, conn, snap.id)
        return conn.block_storage.wait_for_status(
            snap, status='available', failures=['error'], wait=WAIT)

    def wait_snapshot(self, snapshot_id, status='available', conn=None):
        """Wait (fetching afresh) until a volume snapshot has status."""
        conn = conn or self.conn
        return wait_for_status(
            conn.block_storage.get_snapshot,
            getattr(snapshot_id, 'id', snapshot_id), status)

    @staticmethod
    def _delete_snapshot(conn, snapshot_id):
        snap = _wait_settled(conn.block_storage.get_snapshot, snapshot_id,
                             _SNAPSHOT_BUSY)
        if snap is None:
            return
        conn.block_storage.delete_snapshot(snapshot_id, ignore_missing=True)
        conn.block_storage.wait_for_delete(snap, wait=WAIT)

    def create_backup(self, volume_id, conn=None, **kwargs):
        """Back a volume up with cinder-backup; wait until available."""
        conn = conn or self.conn
        backup = conn.block_storage.create_backup(
            volume_id=volume_id, name=self._name('backup'), **kwargs)
        self.addCleanup(self._delete_backup, conn, backup.id)
        return self.wait_backup(backup.id, conn=conn)

    def wait_backup(self, backup_id, status='available', conn=None):
        """Wait (fetching afresh) until a backup has status."""
        conn = conn or self.conn
        return wait_for_status(conn.block_storage.get_backup,
                               getattr(backup_id, 'id', backup_id), status)

    @staticmethod
    def _delete_backup(conn, backup_id):
        backup = _wait_settled(conn.block_storage.get_backup, backup_id,
                               _BACKUP_BUSY)
        if backup is None:
            return
        conn.block_storage.delete_backup(backup_id, ignore_missing=True)
        conn.block_storage.wait_for_delete(backup, wait=WAIT)

    def attach_volume(self, server, volume, conn=None):
        """Attach and wait for in-use; detaches again at cleanup."""
        conn = conn or self.conn
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        self.addCleanup(self._detach_volume, conn, server.id, volume.id)
        return conn.block_storage.wait_for_status(
            volume, status='in-use', failures=['error'], wait=WAIT)

    def _detach_volume(self, conn, server_id, volume_id):
        # find_volume falls back to a name filter that Cinder refuses
        # (400) to non-admins when the id is gone: get it by id.
        try:
            volume = conn.block_storage.get_volume(volume_id)
        except sdk_exc.NotFoundException:
            return
        if volume.status == 'available':
            return
        conn.compute.delete_volume_attachment(server_id, volume_id,
                                              ignore_missing=True)
        conn.block_storage.wait_for_status(
            volume, status='available', failures=['error'], wait=WAIT)
