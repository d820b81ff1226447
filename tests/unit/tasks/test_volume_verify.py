"""tasks/volume.py: VerifyVolumeBytes reads a restored volume back."""

import hashlib

import fixtures
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as volume_mod
from openstack.image.v2 import image as image_mod

from backup_flows import clients
from backup_flows import exceptions
from backup_flows.tasks import volume as volume_tasks

from tests.unit import fake_sdk
from tests.unit.repository import base


def _sha512(data):
    return hashlib.sha512(data).hexdigest()


class VerifyVolumeBytesTestCase(base.RepositoryTestCase):
    """A restored volume is read back through a temporary image whose
    Glance hash must be the disk's (zero-padded to the volume's size)."""

    def setUp(self):
        super().setUp()
        repo = self.make_repo()
        self.data = base.disk_bytes(8, 200 << 10)
        self.backup_id = self.backup(repo, {'vdb': self.data})
        self.conn = fake_sdk.connection()
        self.useFixture(fixtures.MockPatchObject(
            clients, 'connect', return_value=self.conn))
        self.name = 'backup-flows-job-1-verify-volume-vdb'
        fake_sdk.returns(self.conn.image.images, [])
        fake_sdk.returns(self.conn.block_storage.upload_volume_to_image,
                         {'image_id': 'copy-1'})
        fake_sdk.returns(self.conn.block_storage.get_volume,
                         volume_mod.Volume(id='vol-1', status='available'))
        self.restored = image_mod.Image(
            id='img-1', status='active', size=len(self.data),
            os_hash_algo='sha512', os_hash_value=_sha512(self.data))
        self.copy(_sha512(self.data))
        self.task = volume_tasks.VerifyVolumeBytes(name='verify-volume-vdb')

    def copy(self, value, size=None, algo='sha512'):
        copy = image_mod.Image(id='copy-1', name=self.name, status='active',
                               size=size or len(self.data),
                               os_hash_algo=algo, os_hash_value=value)
        deleted = sdk_exc.NotFoundException('gone')

        def get_image(image_id):
            if image_id == 'img-1':
                return self.restored
            if self.conn.image.delete_image.called:
                raise deleted
            return copy
        self.conn.image.get_image.side_effect = get_image

    def execute(self):
        self.task.execute(cloud='c', job_id='job-1',
                          repository_url=self.path(),
                          backup_id=self.backup_id,
                          disk={'disk': 'vdb', 'size': len(self.data)},
                          volume_id='vol-1', image_id='img-1')

    def assertCopyDeleted(self):
        self.conn.image.delete_image.assert_called_once_with(
            'copy-1', ignore_missing=True)
        self.conn.block_storage.get_volume.assert_called_with('vol-1')

    def test_volume_holding_the_disk_passes_and_the_copy_goes(self):
        self.execute()
        self.conn.block_storage.upload_volume_to_image.assert_called_once_with(
            'vol-1', self.name, force=False, disk_format='raw',
            container_format='bare')
        self.assertCopyDeleted()

    def test_other_bytes_fail_and_the_copy_goes(self):
        self.copy(_sha512(self.data[1:] + b'\0'))
        exc = self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.assertIn('Volume vol-1 of disk vdb does not hold the expected '
                      'bytes', str(exc))
        self.assertCopyDeleted()

    def test_a_larger_volume_is_the_disk_then_zeros(self):
        size = len(self.data) + (3 << 20) + 5
        padded = self.data + bytes(size - len(self.data))
        self.copy(_sha512(padded), size=size)
        self.execute()
        self.copy(_sha512(self.data + b'\1' * (size - len(self.data))),
                  size=size)
        self.conn.image.delete_image.reset_mock()
        self.assertRaises(exceptions.BackupFlowsError, self.execute)

    def test_a_smaller_volume_fails(self):
        self.copy(_sha512(self.data[:-1]), size=len(self.data) - 1)
        exc = self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.assertIn('holds %d bytes' % (len(self.data) - 1), str(exc))

    def test_a_copy_without_hash_is_checked_by_its_size(self):
        self.copy(None, algo=None)
        self.execute()
        self.assertCopyDeleted()

    def test_rerun_adopts_the_copy(self):
        fake_sdk.returns(self.conn.image.images, [image_mod.Image(
            id='copy-1', name=self.name)])
        self.execute()
        self.conn.block_storage.upload_volume_to_image.assert_not_called()
        self.assertCopyDeleted()

    def test_revert_deletes_a_copy_left_behind(self):
        fake_sdk.returns(self.conn.image.images, [
            image_mod.Image(id='copy-1', name=self.name),
            image_mod.Image(id='img-1', name='web-1-vdb')])
        self.task.revert(None, cloud='c', job_id='job-1',
                         disk={'disk': 'vdb'})
        self.conn.image.delete_image.assert_called_once_with(
            'copy-1', ignore_missing=True)
