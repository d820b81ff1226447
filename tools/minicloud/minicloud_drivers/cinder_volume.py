"""Cinder volume driver for the minicloud: volumes are sparse files.

Selected with ``volume_driver =
minicloud_drivers.cinder_volume.FileVolumeDriver``. Every volume is a sparse
raw file ``<minicloud_volumes_dir>/volume-<id>``, every snapshot a sparse copy
``snapshot-<id>``. Connections are os-brick ``local`` ones whose
``device_path`` is the file itself, so Nova's attach, cinder-backup and the
image transfers all move the real bytes.

A volume whose type has the extra spec ``minicloud:file_size_mib`` is backed
by a file of at most that many MiB, whatever its nominal size in GiB (the
minicloud's ``minicloud-small`` type): Cinder counts in whole GiB, tests of
copy, revert and failure paths need disks of tens of MiB to stay fast.

The service runs as root on the test machine, so image conversions run
without a root helper (``run_as_root=False``).
"""

import os

from cinder import interface
from cinder.image import image_utils
from cinder.volume import driver
from cinder.volume import volume_utils
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

volume_opts = [
    cfg.StrOpt('minicloud_volumes_dir',
               default='$state_path/minicloud-volumes',
               help='Directory holding the volume and snapshot files.'),
]

GiB = 1024 ** 3
MiB = 1024 ** 2
FILE_SIZE_SPEC = 'minicloud:file_size_mib'


def sparse_copy(src, dst, size=None):
    """Copy src to dst keeping holes; dst ends at max(len(src), size)."""
    tmp = dst + '.part'
    with open(src, 'rb') as fin, open(tmp, 'wb') as fout:
        fd_in, fd_out = fin.fileno(), fout.fileno()
        end = os.fstat(fd_in).st_size
        pos = 0
        while pos < end:
            try:
                data = os.lseek(fd_in, pos, os.SEEK_DATA)
            except OSError:
                break  # only a hole remains
            hole = os.lseek(fd_in, data, os.SEEK_HOLE)
            off_in, off_out = data, data
            while off_in < hole:
                n = os.copy_file_range(fd_in, fd_out, hole - off_in,
                                       off_in, off_out)
                if n == 0:
                    break
                off_in += n
                off_out += n
            pos = hole
        os.ftruncate(fd_out, max(end, size or 0))
        os.fsync(fd_out)
    os.rename(tmp, dst)


@interface.volumedriver
class FileVolumeDriver(driver.VolumeDriver):
    """Volumes and snapshots as sparse files, attached via os-brick local."""

    VERSION = '1.0.0'
    CI_WIKI_NAME = 'backup-flows-minicloud'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(volume_opts)
        self.backend_name = (
            self.configuration.safe_get('volume_backend_name') or 'minicloud')

    @staticmethod
    def get_driver_options():
        return volume_opts

    @property
    def _dir(self):
        return self.configuration.minicloud_volumes_dir

    def do_setup(self, context):
        os.makedirs(self._dir, exist_ok=True)

    def check_for_setup_error(self):
        if not os.path.isdir(self._dir):
            raise RuntimeError('volume directory %s is missing' % self._dir)

    def local_path(self, volume):
        return os.path.join(self._dir, volume.name)

    def _snapshot_path(self, snapshot):
        return os.path.join(self._dir, snapshot.name)

    @staticmethod
    def _file_size(volume, size_gb=None):
        """Bytes of the file backing ``volume`` (at ``size_gb`` GiB)."""
        size = (size_gb or volume.size) * GiB
        vtype = volume.volume_type
        specs = (vtype.extra_specs or {}) if vtype else {}
        limit = specs.get(FILE_SIZE_SPEC)
        return min(size, int(limit) * MiB) if limit else size

    # -- volumes and snapshots ----------------------------------------------

    def create_volume(self, volume):
        with open(self.local_path(volume), 'wb') as f:
            f.truncate(self._file_size(volume))
        return {}

    def delete_volume(self, volume):
        try:
            os.unlink(self.local_path(volume))
        except FileNotFoundError:
            LOG.warning('volume file of %s already gone', volume.id)

    def create_snapshot(self, snapshot):
        sparse_copy(self.local_path(snapshot.volume),
                    self._snapshot_path(snapshot))
        return {}

    def delete_snapshot(self, snapshot):
        try:
            os.unlink(self._snapshot_path(snapshot))
        except FileNotFoundError:
            LOG.warning('snapshot file of %s already gone', snapshot.id)

    def create_volume_from_snapshot(self, volume, snapshot):
        sparse_copy(self._snapshot_path(snapshot), self.local_path(volume),
                    self._file_size(volume))
        return {}

    def create_cloned_volume(self, volume, src_vref):
        sparse_copy(self.local_path(src_vref), self.local_path(volume),
                    self._file_size(volume))
        return {}

    def extend_volume(self, volume, new_size):
        os.truncate(self.local_path(volume),
                    self._file_size(volume, new_size))

    def revert_to_snapshot(self, context, volume, snapshot):
        sparse_copy(self._snapshot_path(snapshot), self.local_path(volume),
                    self._file_size(volume))
        # revert must not change the volume's size
        os.truncate(self.local_path(volume), self._file_size(volume))

    # -- exports and connections --------------------------------------------

    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        pass

    def remove_export(self, context, volume):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        pass

    def remove_export_snapshot(self, context, snapshot):
        pass

    def initialize_connection(self, volume, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self.local_path(volume),
                         'volume_id': volume.id}}

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._snapshot_path(snapshot),
                         'snapshot_id': snapshot.id}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    # -- images -------------------------------------------------------------

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        path = self.local_path(volume)
        image_utils.fetch_to_raw(
            context, image_service, image_id, path,
            self.configuration.volume_dd_blocksize, size=volume.size,
            run_as_root=False, disable_sparse=disable_sparse)
        # qemu-img writes only the image's length: keep the volume's size
        size = self._file_size(volume)
        if os.path.getsize(path) > size:
            raise RuntimeError('image %s (%d bytes) does not fit the %d-byte '
                               'file of volume %s' % (
                                   image_id, os.path.getsize(path), size,
                                   volume.id))
        if os.path.getsize(path) < size:
            os.truncate(path, size)

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        volume_utils.upload_volume(context, image_service, image_meta,
                                   self.local_path(volume), volume,
                                   run_as_root=False)

    # -- stats --------------------------------------------------------------

    def _update_volume_stats(self):
        st = os.statvfs(self._dir)
        total = st.f_blocks * st.f_frsize / GiB
        free = st.f_bavail * st.f_frsize / GiB
        provisioned = 0
        for name in os.listdir(self._dir):
            if name.startswith('volume-') and not name.endswith('.part'):
                provisioned += os.path.getsize(os.path.join(self._dir, name))
        self._stats = {
            'volume_backend_name': self.backend_name,
            'vendor_name': 'backup-flows',
            'driver_version': self.VERSION,
            'storage_protocol': 'local',
            'total_capacity_gb': round(total, 2),
            'free_capacity_gb': round(free, 2),
            'provisioned_capacity_gb': round(provisioned / GiB, 2),
            'reserved_percentage': 0,
            'max_over_subscription_ratio': 20.0,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'sparse_copy_volume': True,
            'online_extend_support': True,
            'multiattach': False,
            'QoS_support': False,
        }
