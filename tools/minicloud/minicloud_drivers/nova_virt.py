"""Nova virt driver for the minicloud: fake guests with real disk files.

Installed by ``tools/minicloud/minicloud`` as ``nova/virt/minicloud.py`` in
the minicloud's virtualenv (Nova only loads ``compute_driver`` from inside the
``nova.virt`` package) and selected with
``compute_driver = minicloud.MiniCloudDriver``.

What it adds to ``FakeDriverWithoutFakeNodes`` (stable node identity through
``state_path/compute_id``):

* every image-backed server has a sparse raw disk file
  ``<instances_path>/<uuid>/disk`` holding the boot image's bytes, grown to
  the flavor's root disk size; volume-backed servers have no local disk;
* snapshot (createImage, createBackup) first extracts a point-in-time copy
  of the disk file (guest frozen while it is copied, as libvirt extracts
  before it uploads), then reports the upload phase and uploads the copy
  to Glance; rebuild (Nova's default destroy + spawn) replaces the file;
* state changes (pause, suspend, power off, ...) are kept and persisted in
  ``<state_path>/minicloud/instances.json`` so servers survive a
  nova-compute restart;
* quiesce/unquiesce fail like libvirt when the image lacks
  ``hw_qemu_guest_agent=yes``; otherwise an emulated guest agent answers,
  or, when the server's metadata says ``minicloud_guest_agent=fail`` or
  ``=timeout``, fails at once or after ``GUEST_AGENT_TIMEOUT`` seconds
  (libvirt's "Guest agent is not responding");
* every guest-visible action is appended to a JSON-lines event log
  ``<state_path>/minicloud/events/<uuid>.jsonl`` that tests read.
"""

import json
import os
import shutil
import threading
import time

from nova import exception
from nova.compute import power_state
from nova.compute import task_states
import nova.conf
from nova.image import glance
from nova.virt import fake
from oslo_log import log as logging

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_ZERO = bytes(_CHUNK)
# Server metadata key selecting the emulated guest agent's behaviour.
GUEST_AGENT_KEY = 'minicloud_guest_agent'
GUEST_AGENT_TIMEOUT = 3


def _copy_sparse(src, dst):
    """Point-in-time copy of src to dst, data extents only (holes stay
    holes); returns the bytes of data copied."""
    copied = 0
    with open(src, 'rb') as fin, open(dst, 'wb') as fout:
        size = os.fstat(fin.fileno()).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fin.fileno(), pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                break
            end = os.lseek(fin.fileno(), start, os.SEEK_HOLE)
            off = start
            while off < end:
                count = os.copy_file_range(fin.fileno(), fout.fileno(),
                                           end - off, off, off)
                if count == 0:
                    break
                off += count
            copied += end - start
            pos = end
        fout.truncate(size)
        fout.flush()
        os.fsync(fout.fileno())
    return copied


def _write_sparse(path, chunks, size=None):
    """Write an iterable of byte chunks to path, leaving zero runs as holes."""
    tmp = path + '.part'
    with open(tmp, 'wb') as f:
        pos = 0
        for chunk in chunks:
            view = memoryview(chunk)
            for off in range(0, len(view), _CHUNK):
                piece = view[off:off + _CHUNK]
                if piece == _ZERO[:len(piece)]:
                    f.seek(len(piece), os.SEEK_CUR)
                else:
                    f.write(piece)
                pos += len(piece)
        f.truncate(max(pos, size or 0))
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    return pos


class _FileReader:
    """File-like reader with a known length for the Glance upload."""

    def __init__(self, path):
        self._f = open(path, 'rb')
        self.len = os.fstat(self._f.fileno()).st_size

    def read(self, size=-1):
        return self._f.read(size)

    def __len__(self):
        return self.len

    def close(self):
        self._f.close()


class MiniCloudDriver(fake.FakeDriverWithoutFakeNodes):
    """Single-node fake hypervisor whose servers have real disk files."""

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only=read_only)
        self._lock = threading.RLock()
        self._state_dir = os.path.join(CONF.state_path, 'minicloud')
        self._events_dir = os.path.join(self._state_dir, 'events')
        self._state_file = os.path.join(self._state_dir, 'instances.json')
        self._image_api = glance.API()
        self._saved = {}

    # -- persistence --------------------------------------------------------

    def init_host(self, host):
        super().init_host(host)
        os.makedirs(self._events_dir, exist_ok=True)
        os.makedirs(CONF.instances_path, exist_ok=True)
        self._saved = {}
        if os.path.exists(self._state_file):
            with open(self._state_file) as f:
                self._saved = json.load(f)
        for uuid, rec in self._saved.items():
            self.instances[uuid] = fake.FakeInstance(
                rec['name'], rec['state'], uuid)
            self.resources.claim(vcpus=rec.get('vcpus', 0),
                                 mem=rec.get('memory_mb', 0),
                                 disk=rec.get('root_gb', 0))
        LOG.info("minicloud: restored %d instances from %s",
                 len(self._saved), self._state_file)

    def _save(self):
        with self._lock:
            data = {}
            for uuid, inst in self.instances.items():
                rec = dict(self._saved.get(uuid, {}))
                rec.update(name=inst.name, state=inst.state)
                data[uuid] = rec
            self._saved = data
            tmp = self._state_file + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(data, f)
            os.rename(tmp, self._state_file)

    def _event(self, instance, event, **details):
        rec = {'time': time.time(),
               'event': event,
               'instance': instance.uuid,
               'task_state': instance.task_state,
               'vm_state': instance.vm_state}
        rec.update(details)
        line = json.dumps(rec, sort_keys=True) + '\n'
        with self._lock:
            with open(os.path.join(self._events_dir,
                                   instance.uuid + '.jsonl'), 'a') as f:
                f.write(line)

    def _set_state(self, instance, state, event, **details):
        if instance.uuid not in self.instances:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        self.instances[instance.uuid].state = state
        self._save()
        self._event(instance, event, **details)

    # -- disks --------------------------------------------------------------

    @staticmethod
    def disk_path(instance):
        return os.path.join(CONF.instances_path, instance.uuid, 'disk')

    def _has_local_disk(self, instance):
        return bool(instance.image_ref)

    def _create_disk(self, context, instance, image_meta):
        path = self.disk_path(instance)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        image_id = image_meta.id
        chunks = self._image_api.download(context, image_id)
        size = instance.flavor.root_gb * 1024 ** 3
        written = _write_sparse(path, chunks, size)
        return path, image_id, written

    # -- lifecycle ----------------------------------------------------------

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        details = {}
        if self._has_local_disk(instance):
            path, image_id, written = self._create_disk(
                context, instance, image_meta)
            details.update(disk=path, image_id=image_id, image_bytes=written)
        volumes = []
        for bdm in (block_device_info or {}).get('block_device_mapping', []):
            data = (bdm.get('connection_info') or {}).get('data', {})
            volumes.append({'mount_device': bdm.get('mount_device'),
                            'device_path': data.get('device_path'),
                            'volume_id': data.get('volume_id')})
        details['volumes'] = volumes
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info=network_info,
                      block_device_info=block_device_info, power_on=power_on,
                      accel_info=accel_info)
        with self._lock:
            self._saved[instance.uuid] = {
                'vcpus': instance.flavor.vcpus,
                'memory_mb': instance.flavor.memory_mb,
                'root_gb': instance.flavor.root_gb}
        self._save()
        event = ('rebuild' if instance.task_state ==
                 task_states.REBUILD_SPAWNING else 'spawn')
        self._event(instance, event, **details)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        super().destroy(context, instance, network_info,
                        block_device_info=block_device_info,
                        destroy_disks=destroy_disks,
                        destroy_secrets=destroy_secrets)
        if destroy_disks:
            shutil.rmtree(os.path.dirname(self.disk_path(instance)),
                          ignore_errors=True)
        with self._lock:
            self._saved.pop(instance.uuid, None)
        self._save()
        self._event(instance, 'destroy', destroy_disks=destroy_disks)

    def snapshot(self, context, instance, image_id, update_task_state):
        if instance.uuid not in self.instances:
            raise exception.InstanceNotRunning(instance_id=instance.uuid)
        path = self.disk_path(instance)
        if not os.path.exists(path):
            raise exception.InstanceNotRunning(instance_id=instance.uuid)
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        metadata = {
            'disk_format': 'raw',
            'container_format': 'bare',
            'properties': {
                'image_location': 'snapshot',
                'image_state': 'available',
                'owner_id': instance.project_id,
            },
        }
        # Like libvirt: extract a point-in-time copy (the guest's
        # filesystems frozen meanwhile when the image has a guest agent;
        # a failed freeze fails the snapshot only when the image requires
        # it, os_require_quiesce), then upload the copy.
        copy = os.path.join(os.path.dirname(path), 'snapshot-' + image_id)
        quiesced = self._quiesce_for_snapshot(context, instance)
        try:
            copied = _copy_sparse(path, copy)
        finally:
            if quiesced:
                self.unquiesce(context, instance, instance.image_meta)
        self._event(instance, 'snapshot_extracted', image_id=image_id,
                    quiesced=quiesced, bytes=copied)
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        reader = _FileReader(copy)
        try:
            self._image_api.update(context, image_id, metadata, reader,
                                   purge_props=False)
            self._event(instance, 'snapshot', image_id=image_id, disk=path,
                        bytes=reader.len)
        finally:
            reader.close()
            os.unlink(copy)

    # -- power and state ----------------------------------------------------

    def power_off(self, instance, timeout=0, retry_interval=0):
        self._set_state(instance, power_state.SHUTDOWN, 'power_off')

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        self._set_state(instance, power_state.RUNNING, 'power_on')

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        self._set_state(instance, power_state.RUNNING, 'reboot',
                        reboot_type=reboot_type)

    def pause(self, instance):
        self._set_state(instance, power_state.PAUSED, 'pause')

    def unpause(self, instance):
        self._set_state(instance, power_state.RUNNING, 'unpause')

    def suspend(self, context, instance):
        self._set_state(instance, power_state.SUSPENDED, 'suspend')

    def resume(self, context, instance, network_info, block_device_info=None,
               share_info=None):
        self._set_state(instance, power_state.RUNNING, 'resume')

    def resume_state_on_host_boot(self, context, instance, network_info,
                                  share_info, block_device_info=None):
        self._event(instance, 'resume_state_on_host_boot')

    # -- quiesce ------------------------------------------------------------

    def _check_quiesce(self, instance, image_meta, event):
        if not image_meta.properties.get('hw_qemu_guest_agent', False):
            self._event(instance, event + '_failed',
                        reason='hw_qemu_guest_agent not enabled')
            raise exception.QemuGuestAgentNotEnabled()
        inst = self.instances.get(instance.uuid)
        if inst is None or inst.state != power_state.RUNNING:
            self._event(instance, event + '_failed',
                        reason='guest not running')
            raise exception.InstanceQuiesceNotSupported(
                instance_id=instance.uuid)
        agent = (instance.metadata or {}).get(GUEST_AGENT_KEY, 'answer')
        if agent == 'timeout':
            time.sleep(GUEST_AGENT_TIMEOUT)
        if agent in ('fail', 'timeout'):
            reason = ('Guest agent is not responding' if agent == 'timeout'
                      else 'guest agent failed to freeze the filesystems')
            self._event(instance, event + '_failed', reason=reason)
            raise exception.InstanceQuiesceFailed(reason=reason)

    def _quiesce_for_snapshot(self, context, instance):
        image_meta = instance.image_meta
        inst = self.instances.get(instance.uuid)
        if inst is None or inst.state == power_state.SHUTDOWN:
            # libvirt takes a cold snapshot of a guest shut down
            return False
        try:
            self.quiesce(context, instance, image_meta)
        except exception.NovaException:
            if image_meta.properties.get('os_require_quiesce', False):
                raise
            return False
        return True

    def quiesce(self, context, instance, image_meta):
        self._check_quiesce(instance, image_meta, 'quiesce')
        self._event(instance, 'quiesce')

    def unquiesce(self, context, instance, image_meta):
        self._check_quiesce(instance, image_meta, 'unquiesce')
        self._event(instance, 'unquiesce')

    # -- volumes ------------------------------------------------------------

    @staticmethod
    def _volume_details(connection_info, mountpoint):
        data = (connection_info or {}).get('data', {})
        return {'volume_id': (connection_info or {}).get('serial')
                or data.get('volume_id'),
                'device_path': data.get('device_path'),
                'driver_volume_type': (connection_info or {}).get(
                    'driver_volume_type'),
                'mountpoint': mountpoint}

    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        details = self._volume_details(connection_info, mountpoint)
        path = details['device_path']
        if path and not os.path.exists(path):
            raise exception.VolumeNotFound(volume_id=details['volume_id'])
        super().attach_volume(context, connection_info, instance, mountpoint,
                              disk_bus=disk_bus, device_type=device_type,
                              encryption=encryption)
        self._event(instance, 'attach', **details)

    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        super().detach_volume(context, connection_info, instance, mountpoint,
                              encryption=encryption)
        self._event(instance, 'detach',
                    **self._volume_details(connection_info, mountpoint))

    def extend_volume(self, context, connection_info, instance,
                      requested_size):
        self._event(instance, 'extend_volume', requested_size=requested_size,
                    **self._volume_details(connection_info, None))

    def instance_on_disk(self, instance):
        return os.path.exists(self.disk_path(instance))
