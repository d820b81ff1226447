import hashlib
import io
import os
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as volume_mod
from openstack.image.v2 import image as image_mod
import testtools

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows.flows import restore
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks

from tests import flowutils
from tests.unit import fake_sdk
from tests.unit.repository import base


def disk(name, role, size=64 << 20):
    planned = {'disk': name, 'role': role, 'size': size, 'sha256': 'ab',
               'image': {'role': 'restore-image-%s' % name, 'name': name}}
    if role != 'root-image':
        planned['volume'] = {'role': 'restore-volume-%s' % name,
                             'name': name, 'size_gb': 1}
    return planned


SERVER = {'name': 'web-1', 'flavor_id': 'f1', 'networks': [{'uuid': 'n1'}],
          'security_groups': ['default'], 'metadata': {}, 'tags': []}
IMAGE_BACKED = [disk('vda', 'root-image'), disk('vdb', 'volume'),
                disk('vdc', 'volume')]
VOLUME_BACKED = [disk('vda', 'root-volume')]


class RestoreFlowTestCase(testtools.TestCase):

    def test_image_backed_shape(self):
        flow = restore.get_flow(IMAGE_BACKED, SERVER)
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual('check-backup', names[0])
        self.assertEqual(['create-server', 'wait-server-active'], names[-2:])
        self.assertEqual(
            ['create-image-vda', 'upload-disk-vda', 'wait-image-active-vda'],
            [n for n in names if n.endswith('-vda')])
        for name in ('vdb', 'vdc'):
            self.assertEqual(
                ['create-image-%s' % name, 'upload-disk-%s' % name,
                 'wait-image-active-%s' % name, 'create-volume-%s' % name,
                 'wait-volume-available-%s' % name,
                 'verify-volume-%s' % name, 'delete-image-%s' % name],
                [n for n in names if n.endswith('-' + name)])
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(3 + 7 + 7 + 3, len(names))

    def test_requires_only_plain_store_keys(self):
        flow = restore.get_flow(IMAGE_BACKED, SERVER)
        self.assertEqual({'cloud', 'job_id', 'backup_id', 'repository_url'},
                         set(flow.requires))
        provided = set()
        for atom in flowutils.atoms(flow):
            provided.update(atom.provides)
        self.assertEqual({'image_vda', 'image_vdb', 'image_vdc',
                          'volume_vdb', 'volume_vdc', 'server_id'}, provided)

    def test_server_gets_the_root_image_and_the_volumes(self):
        flow = restore.get_flow(IMAGE_BACKED, SERVER)
        create = next(a for a in flowutils.atoms(flow)
                      if a.name == 'create-server')
        self.assertIsInstance(create, server_tasks.CreateServer)
        spec = create.inject['spec']
        self.assertEqual({'kind': 'image', 'key': 'image_vda'}, spec['root'])
        self.assertEqual([{'key': 'volume_vdb'}, {'key': 'volume_vdc'}],
                         spec['volumes'])
        self.assertEqual('web-1', spec['name'])
        self.assertTrue({'image_vda', 'volume_vdb', 'volume_vdc',
                         'job_id', 'spec', 'cloud'} <=
                        set(create.rebind.values()) | set(create.inject))

    def test_boot_from_volume_root_is_a_volume(self):
        flow = restore.get_flow(VOLUME_BACKED, SERVER)
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual(
            ['check-backup', 'create-image-vda', 'upload-disk-vda',
             'wait-image-active-vda', 'create-volume-vda',
             'wait-volume-available-vda', 'verify-volume-vda',
             'delete-image-vda', 'create-server', 'wait-server-active'], names)
        create = next(a for a in flowutils.atoms(flow)
                      if a.name == 'create-server')
        self.assertEqual({'kind': 'volume', 'key': 'volume_vda'},
                         create.inject['spec']['root'])
        self.assertEqual([], create.inject['spec']['volumes'])

    def test_disk_tasks_use_the_disk_keys(self):
        by_name = {a.name: a for a in flowutils.atoms(
            restore.get_flow(IMAGE_BACKED, SERVER))}
        upload = by_name['upload-disk-vdb']
        self.assertIsInstance(upload, image_tasks.UploadDiskToImage)
        self.assertEqual('image_vdb', upload.rebind['image_id'])
        self.assertEqual('vdb', upload.inject['disk']['disk'])
        volume = by_name['create-volume-vdb']
        self.assertIsInstance(volume, volume_tasks.CreateVolume)
        self.assertEqual('image_vdb', volume.rebind['image_id'])
        self.assertEqual(['volume_vdb'], list(volume.provides))
        delete = by_name['delete-image-vdb']
        self.assertIsInstance(delete, image_tasks.DeleteImage)
        self.assertEqual('image_vdb', delete.rebind['image_id'])
        self.assertEqual('image_vdb',
                         by_name['wait-image-active-vdb'].rebind['image_id'])
        self.assertEqual('volume_vdb', by_name[
            'wait-volume-available-vdb'].rebind['volume_id'])

    def test_flow_is_registered(self):
        from backup_flows import plugins
        self.assertIs(restore.get_flow,
                      plugins.load_flow_factory('restore'))


def _image(status='active', size=None, algo=None, value=None):
    return image_mod.Image(id='img-1', status=status, size=size,
                           os_hash_algo=algo, os_hash_value=value)


def _sha512(data):
    return hashlib.sha512(data).hexdigest()


class UploadDiskToImageTestCase(base.RepositoryTestCase):
    """The upload streams verified bytes; a read error fails the task; what
    Glance stored must hash as what was sent."""

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo()
        self.data = base.disk_bytes(7, 300 << 10)
        self.backup_id = self.backup(self.repo, {'vda': self.data})
        self.conn = fake_sdk.connection()
        self.stored(_sha512(self.data))
        self.received = []
        self.conn.image.put.side_effect = self._put
        self.useFixture(fixtures.MockPatchObject(
            clients, 'connect', return_value=self.conn))
        self.task = image_tasks.UploadDiskToImage(name='upload-disk-vda')
        self.disk = {'disk': 'vda', 'size': len(self.data)}
        self.log = self.useFixture(fixtures.FakeLogger(
            name='backup_flows.tasks'))

    def stored(self, value, algo='sha512'):
        """Glance answers: queued, then active with hash ``value``."""
        self.conn.image.get_image.side_effect = [
            _image('queued'), _image('active', len(self.data), algo, value)]

    def _put(self, url, data, headers, connect_retries):
        self.assertEqual('/images/img-1/file', url)
        self.assertEqual(0, connect_retries)
        self.assertEqual(str(len(self.data)),
                         headers['X-OpenStack-Image-Size'])
        for chunk in data:
            self.received.append(bytes(chunk))
        return fake_sdk.response(204)

    def execute(self, backup_id=None):
        return self.task.execute(cloud='c', repository_url=self.path(),
                                 backup_id=backup_id or self.backup_id,
                                 disk=self.disk, image_id='img-1')

    def corrupt(self):
        packs = [os.path.join(d, f) for d, _, files in
                 os.walk(os.path.join(self.path(), 'packs')) for f in files]
        with open(packs[0], 'r+b') as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 1]))

    def test_streams_the_disk_in_pieces(self):
        self.execute()
        self.assertEqual(self.data, b''.join(self.received))
        self.assertGreater(len(self.received), 1)

    def test_damaged_chunk_fails_the_task(self):
        self.corrupt()
        self.assertRaises(exceptions.RepositoryCorrupted, self.execute)
        self.assertNotEqual(self.data, b''.join(self.received))

    def test_bytes_not_matching_the_whole_disk_checksum_never_end(self):
        # A manifest whose SHA-256 is not that of its chunks (a writer's
        # bug): the body fails before it ends, so Glance keeps nothing.
        with self.repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(self.data))
            record = dict(session.disk_record('vda'), sha256='0' * 64)
            session.release()
        with self.repo.start_backup() as session:
            session.add_disk(record)
            wrong = session.commit('server-1', {})
        exc = self.assertRaises(exceptions.RepositoryCorrupted,
                                self.execute, wrong)
        self.assertIn('whole-disk SHA-256 mismatch', str(exc))
        # every byte was handed over, then the body failed instead of
        # ending
        self.assertEqual(self.data, b''.join(self.received))
        self.assertEqual(1, self.conn.image.get_image.call_count)

    def test_glance_storing_other_bytes_fails_the_task(self):
        self.stored(_sha512(self.data[:-1] + b'?'))
        exc = self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.assertIn('Image img-1 of disk vda does not hold the expected '
                      'bytes: sha512 ', str(exc))
        self.assertIn(_sha512(self.data)[:16], str(exc))

    def test_another_algorithm_is_computed_from_the_repository(self):
        self.stored(hashlib.sha3_256(self.data).hexdigest(), 'sha3_256')
        self.execute()
        self.stored(hashlib.sha3_256(b'other').hexdigest(), 'sha3_256')
        self.received = []
        exc = self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.assertIn('sha3_256', str(exc))

    def test_an_image_without_hash_is_checked_by_its_size(self):
        self.stored(None, None)
        self.execute()
        self.assertIn('Image img-1 of disk vda has no hash in Glance',
                      self.log.output)
        self.conn.image.get_image.side_effect = [
            _image('queued'), _image('active', len(self.data) - 1)]
        self.assertRaises(exceptions.BackupFlowsError, self.execute)

    def test_read_error_wrapped_by_the_http_stack_is_reraised(self):
        self.corrupt()

        def wrapping_put(url, data, **kwargs):
            try:
                for _ in data:
                    pass
            except Exception:
                raise ConnectionError('connection aborted')
        self.conn.image.put.side_effect = wrapping_put
        self.assertRaises(exceptions.RepositoryCorrupted, self.execute)

    def test_image_already_uploaded_is_accepted(self):
        self.conn.image.get_image.side_effect = [
            _image('active', len(self.data), 'sha512', _sha512(self.data))]
        self.execute()
        self.conn.image.put.assert_not_called()

    def test_image_already_uploaded_with_other_bytes_fails(self):
        self.conn.image.get_image.side_effect = [
            _image('active', len(self.data), 'sha512', _sha512(b'x'))]
        self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.conn.image.put.assert_not_called()

    def test_image_in_another_state_fails(self):
        self.conn.image.get_image.side_effect = [_image('killed')]
        self.assertRaises(exceptions.ResourceFailed, self.execute)


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


class CreateServerTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conn = mock.Mock()
        self.conn.compute.servers.return_value = []
        self.conn.compute.create_server.return_value = mock.Mock(id='srv-1')
        self.useFixture(fixtures.MockPatchObject(
            clients, 'connect', return_value=self.conn))

    def task(self, disks):
        flow = restore.get_flow(disks, SERVER)
        return next(a for a in flowutils.atoms(flow)
                    if a.name == 'create-server')

    def test_image_backed_server_with_volumes_at_boot(self):
        task = self.task(IMAGE_BACKED)
        self.assertEqual('srv-1', task.execute(
            cloud='c', job_id='job-1', spec=task.inject['spec'],
            image_vda='img', volume_vdb='v1', volume_vdc='v2'))
        attrs = self.conn.compute.create_server.call_args.kwargs
        self.assertEqual('img', attrs['image_id'])
        self.assertEqual(
            [('img', 'image', 'local', 0, True),
             ('v1', 'volume', 'volume', -1, False),
             ('v2', 'volume', 'volume', -1, False)],
            [(d['uuid'], d['source_type'], d['destination_type'],
              d['boot_index'], d['delete_on_termination'])
             for d in attrs['block_device_mapping']])
        self.assertEqual('job-1', attrs['metadata']['backup_flows_job_id'])
        self.assertEqual([{'name': 'default'}], attrs['security_groups'])
        self.assertEqual('f1', attrs['flavor_id'])

    def test_boot_volume_is_boot_index_0(self):
        task = self.task(VOLUME_BACKED)
        task.execute(cloud='c', job_id='job-1', spec=task.inject['spec'],
                     volume_vda='root')
        attrs = self.conn.compute.create_server.call_args.kwargs
        self.assertNotIn('image_id', attrs)
        self.assertEqual([('root', 0)], [
            (d['uuid'], d['boot_index'])
            for d in attrs['block_device_mapping']])

    def test_rerun_adopts_the_server_of_the_job(self):
        mine = mock.Mock(id='srv-0', metadata={'backup_flows_job_id': 'job-1'})
        mine.name = 'web-1'
        other = mock.Mock(id='srv-9', metadata={'backup_flows_job_id': 'x'})
        other.name = 'web-1'
        self.conn.compute.servers.return_value = [other, mine]
        task = self.task(VOLUME_BACKED)
        self.assertEqual('srv-0', task.execute(
            cloud='c', job_id='job-1', spec=task.inject['spec'],
            volume_vda='root'))
        self.conn.compute.create_server.assert_not_called()

    def test_revert_deletes_and_waits_for_the_volumes(self):
        task = self.task(IMAGE_BACKED)
        self.conn.compute.get_server.side_effect = sdk_exc.NotFoundException
        self.conn.block_storage.get_volume.return_value = mock.Mock(
            status='available')
        task.revert(result='srv-1', cloud='c', job_id='job-1',
                    spec=task.inject['spec'], image_vda='img',
                    volume_vdb='v1', volume_vdc='v2')
        self.conn.compute.delete_server.assert_called_once_with(
            'srv-1', ignore_missing=True)
        self.assertEqual(
            ['v1', 'v2'],
            [c.args[0] for c in
             self.conn.block_storage.get_volume.call_args_list])

    def test_revert_swallows_errors(self):
        logs = self.useFixture(fixtures.FakeLogger())
        task = self.task(IMAGE_BACKED)
        self.conn.compute.servers.side_effect = RuntimeError('down')
        result = task.revert(result=None, cloud='c', job_id='job-1',
                             spec=task.inject['spec'])
        self.assertEqual({keys.REVERT_FAILED: 'RuntimeError: down'}, result)
        self.assertIn('Revert of task %s failed: down' % task.name,
                      logs.output)
