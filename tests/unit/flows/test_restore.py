import os
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
import testtools

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows.flows import restore
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks

from tests import flowutils
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
                 'delete-image-%s' % name],
                [n for n in names if n.endswith('-' + name)])
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(3 + 6 + 6 + 3, len(names))

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
             'wait-volume-available-vda', 'delete-image-vda',
             'create-server', 'wait-server-active'], names)
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


class _FakeImage:

    def __init__(self, status='queued', size=None):
        self.status = status
        self.size = size


class UploadDiskToImageTestCase(base.RepositoryTestCase):
    """The upload streams verified bytes; a read error fails the task."""

    def setUp(self):
        super().setUp()
        repo = self.make_repo()
        self.data = base.disk_bytes(7, 300 << 10)
        self.backup_id = self.backup(repo, {'vda': self.data})
        self.conn = mock.Mock()
        self.conn.image.get_image.side_effect = [
            _FakeImage(), _FakeImage('active', len(self.data))]
        self.received = []
        self.conn.image.put.side_effect = self._put
        self.useFixture(fixtures.MockPatchObject(
            clients, 'connect', return_value=self.conn))
        self.task = image_tasks.UploadDiskToImage(name='upload-disk-vda')
        self.disk = {'disk': 'vda', 'size': len(self.data)}

    def _put(self, url, data, headers, connect_retries):
        self.assertEqual('/images/img-1/file', url)
        self.assertEqual(0, connect_retries)
        self.assertEqual(str(len(self.data)),
                         headers['X-OpenStack-Image-Size'])
        for chunk in data:
            self.received.append(bytes(chunk))
        response = mock.Mock(status_code=204)
        response.headers = {}
        return response

    def execute(self):
        return self.task.execute(cloud='c', repository_url=self.path(),
                                 backup_id=self.backup_id, disk=self.disk,
                                 image_id='img-1')

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
            _FakeImage('active', len(self.data))]
        self.execute()
        self.conn.image.put.assert_not_called()

    def test_image_in_another_state_fails(self):
        self.conn.image.get_image.side_effect = [_FakeImage('killed')]
        self.assertRaises(exceptions.ResourceFailed, self.execute)


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
