"""Helpers for functional tests against the local OpenStack (tools/minicloud).

The minicloud keeps everything under its data directory: ``$MINICLOUD_HOME``
when set, else ``/var/lib/backup-flows-minicloud`` for root and
``~/.local/share/backup-flows-minicloud`` for other users (the same rule as
``tools/minicloud/minicloud``). From there this module finds clouds.yaml,
server disk files, volume files and the per-server event log.

Tests subclass :class:`MiniCloudTestCase`; when the cloud is not running the
test fails (never skips) and says how to start it.
"""

import copy
import hashlib
import json
import os
import secrets
import signal
import subprocess
import time
import uuid

import fixtures
from openstack import exceptions as sdk_exc
import testtools
import yaml

from tools.minicloud import paths as mc_paths
from tools.minicloud import state as mc_state

MINICLOUD = mc_paths.LAUNCHER
BASE_IMAGE = 'minicloud-base'
BASE_IMAGE_NOAGENT = 'minicloud-base-noagent'
# guest agent, and Nova must fail a snapshot it could not freeze
BASE_IMAGE_QUIESCE = 'minicloud-base-quiesce'
FLAVOR = 'm1.tiny'  # 1 GiB root disk
SMALL_FLAVOR = 'm1.nano'  # root disk as large as the image (64 MiB)
# Volumes of this type are 64 MiB files whatever their nominal size (1 GiB
# in Cinder's accounting): for tests where size is not the subject.
SMALL_VOLUME_TYPE = mc_paths.SMALL_VOLUME_TYPE
NETWORK = 'minicloud-net'
WAIT = 180
# seconds between two polls of a status (openstacksdk's default is 2)
POLL = 0.5


class MiniCloudNotRunning(Exception):
    """The minicloud is not running or not ready."""


def home():
    """The minicloud's data directory (``$MINICLOUD_HOME`` or default)."""
    return mc_paths.settings().home


def clouds_yaml():
    """Path of the clouds.yaml written by ``minicloud start``."""
    return mc_paths.settings().clouds_yaml


def check_running(components=()):
    """Raise MiniCloudNotRunning unless every minicloud service runs (and
    the optional ``components`` are on)."""
    settings = mc_paths.settings()
    hint = ('start it with: tools/minicloud/minicloud start%s '
            '(MINICLOUD_HOME=%s)' % (
                ' --with ' + ','.join(components) if components else '',
                settings.home))
    state, up = mc_state.running(settings)
    if not state['services']:
        raise MiniCloudNotRunning('minicloud is not running; ' + hint)
    dead = sorted(set(state['services']) - set(up))
    if not mc_state.is_ready(state, up):
        raise MiniCloudNotRunning('minicloud is not ready (dead: %s); %s'
                                  % (', '.join(dead) or 'none', hint))
    missing = [c for c in components
               if c not in state.get('components', ())]
    if missing:
        raise MiniCloudNotRunning('minicloud component %s is not on; %s'
                                  % (', '.join(missing), hint))
    if not os.path.exists(settings.clouds_yaml):
        raise MiniCloudNotRunning('no %s; %s' % (settings.clouds_yaml, hint))


def connection(cloud='minicloud', config_file=None):
    """An openstacksdk Connection to one clouds.yaml entry.

    ``minicloud`` (project demo, non-admin), ``minicloud-alt`` (project
    alt, non-admin) or ``minicloud-admin``; from ``config_file`` when given
    (a :class:`ProjectFixture`'s), else the minicloud's clouds.yaml.
    """
    import openstack.config
    import openstack.connection
    os.environ.setdefault('OS_CLIENT_CONFIG_FILE', clouds_yaml())
    # load_envvars=False: OS_CLIENT_CONFIG_FILE would take precedence over
    # config_files (and OS_CLOUD and OS_* over the entry).
    config = openstack.config.OpenStackConfig(
        config_files=[config_file or clouds_yaml()], vendor_files=[],
        load_envvars=False)
    return openstack.connection.Connection(
        config=config.get_one(cloud=cloud))


class ProjectFixture(fixtures.Fixture):
    """A Keystone project of the test's own, with a member user.

    ``clouds_yaml`` is a clouds.yaml whose ``minicloud`` entry is that user
    in that project (the other entries as in the minicloud's). Tests whose
    assertions cover every resource of a project run there, so that the
    tests running beside them cannot change what they see. The user and the
    project are deleted at cleanup, after the test's own cleanups.
    """

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def _setUp(self):
        identity = connection('minicloud-admin').identity
        name = 'ft-%s' % uuid.uuid4().hex[:12]
        project = identity.create_project(name=name, domain_id='default')
        self.addCleanup(identity.delete_project, project,
                        ignore_missing=True)
        password = secrets.token_hex(12)
        user = identity.create_user(name=name, password=password,
                                    domain_id='default',
                                    default_project_id=project.id)
        self.addCleanup(identity.delete_user, user, ignore_missing=True)
        for role in ('member', 'reader'):
            identity.assign_project_role_to_user(
                project, user, identity.find_role(role, ignore_missing=False))
        with open(clouds_yaml()) as f:
            config = yaml.safe_load(f)
        entry = copy.deepcopy(config['clouds']['minicloud'])
        entry['auth'].update(username=name, password=password,
                             project_name=name)
        config['clouds']['minicloud'] = entry
        self.clouds_yaml = os.path.join(self.directory, 'clouds.yaml')
        fd = os.open(self.clouds_yaml, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, 'w') as f:
            yaml.safe_dump(config, f)
        self.project_id = project.id


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

    Provides ``self.conn`` (non-admin: project demo, or a project of the
    test's own when ``OWN_PROJECT`` is set) and ``self.admin_conn`` and
    helpers that create resources and register their cleanup.
    ``self.clouds_yaml`` is the clouds.yaml whose ``minicloud`` entry
    ``self.conn`` uses. ``COMPONENTS`` names the optional minicloud
    components the test needs: without them it fails, saying how to start
    them.
    """

    OWN_PROJECT = False
    # optional minicloud components the test needs (minicloud start --with)
    COMPONENTS = ()

    def setUp(self):
        super().setUp()
        try:
            check_running(self.COMPONENTS)
        except MiniCloudNotRunning as e:
            self.fail(str(e))
        self.clouds_yaml = clouds_yaml()
        if self.OWN_PROJECT:
            directory = self.useFixture(fixtures.TempDir()).path
            self.clouds_yaml = self.useFixture(
                ProjectFixture(directory)).clouds_yaml
        self.conn = connection('minicloud', self.clouds_yaml)
        self.admin_conn = connection('minicloud-admin')

    def kill_9_when(self, proc, ready, wait=120, interval=0.5):
        """Poll ``ready()`` while ``proc`` runs; once it returns something
        true, kill -9 ``proc`` and return that. Fails if ``proc`` ends
        first or ``wait`` seconds pass."""
        deadline = time.time() + wait
        while True:
            found = ready()
            if found:
                break
            self.assertIsNone(proc.poll(), 'finished before it was killed')
            self.assertLess(time.time(), deadline)
            time.sleep(interval)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        return found

    def _name(self, kind):
        return 'ft-%s-%s-%d' % (self.id().rsplit('.', 1)[-1][:30], kind,
                                int(time.time() * 1000) % 10 ** 8)

    # -- servers with disks holding known bytes --------------------------

    # (offset, length) regions written by write_generation: within the
    # 64 MiB root disk of a SMALL_FLAVOR server and a SMALL_VOLUME_TYPE
    # volume.
    REGIONS = ((1 << 20, 256 << 10), ((30 << 20) + 4096, 64 << 10),
               (60 << 20, 128 << 10))

    def make_server(self, volumes=0, image=BASE_IMAGE, flavor=SMALL_FLAVOR):
        """A 64 MiB root disk server with ``volumes`` attached volumes of
        64 MiB (SMALL_VOLUME_TYPE)."""
        server = self.create_server(image=image, flavor=flavor)
        attached = []
        for _ in range(volumes):
            volume = self.create_volume(size=1,
                                        volume_type=SMALL_VOLUME_TYPE)
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
                                            wait=WAIT, interval=POLL)

    @staticmethod
    def _delete_server(conn, server_id):
        server = conn.compute.find_server(server_id)
        if server is None:
            return
        conn.compute.delete_server(server, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=WAIT, interval=POLL)

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
            volume, status='available', failures=['error'], wait=WAIT,
            interval=POLL)

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
        conn.block_storage.wait_for_delete(volume, wait=WAIT, interval=POLL)

    def create_snapshot(self, volume_id, conn=None, **kwargs):
        conn = conn or self.conn
        snap = conn.block_storage.create_snapshot(
            volume_id=volume_id, name=self._name('snap'), **kwargs)
        self.addCleanup(self._delete_snapshot, conn, snap.id)
        return conn.block_storage.wait_for_status(
            snap, status='available', failures=['error'], wait=WAIT,
            interval=POLL)

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
        conn.block_storage.wait_for_delete(snap, wait=WAIT, interval=POLL)

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
        conn.block_storage.wait_for_delete(backup, wait=WAIT, interval=POLL)

    def attach_volume(self, server, volume, conn=None):
        """Attach and wait for in-use; detaches again at cleanup."""
        conn = conn or self.conn
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        self.addCleanup(self._detach_volume, conn, server.id, volume.id)
        return conn.block_storage.wait_for_status(
            volume, status='in-use', failures=['error'], wait=WAIT,
            interval=POLL)

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
            volume, status='available', failures=['error'], wait=WAIT,
            interval=POLL)
