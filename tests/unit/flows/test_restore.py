"""The restore flow: its shape, and a run against the fake cloud."""

import io
import os

import fixtures
from openstack import exceptions as sdk_exc
import testtools

from backup_flows import conf
from backup_flows import repository
from backup_flows.flows import restore
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import server as server_tasks
from backup_flows.tasks import volume as volume_tasks

from tests import flowutils
from tests.unit.flows import runs


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


RESTORE_ROOT = ['check-backup', 'create-image-vda', 'upload-disk-vda',
                'wait-image-active-vda', 'create-server',
                'wait-server-active']
RESTORE_VOLUME = ['check-backup', 'create-image-vdb', 'upload-disk-vdb',
                  'wait-image-active-vdb', 'create-volume-vdb',
                  'wait-volume-available-vdb', 'verify-volume-vdb',
                  'delete-image-vdb', 'create-server', 'wait-server-active']


class RestoreFlowRunTestCase(runs.FlowRunTestCase):
    """restore of a backup (root image, one volume) from a file
    repository onto a new server of the fake cloud."""

    def setUp(self):
        super().setUp()
        url = os.path.join(self.useFixture(fixtures.TempDir()).path, 'repo')
        self.disks = {'vda': os.urandom(60000), 'vdb': os.urandom(40000)}
        with repository.init_repository(conf.CONF, url=url) as repo:
            with repo.start_backup() as session:
                for name, data in self.disks.items():
                    session.write_disk(name, io.BytesIO(data))
                backup_id = session.commit('srv', {})
            manifest = repo.show_backup(backup_id)
        planned = [dict(disk(d['name'], role, d['size']),
                        sha256=d['sha256'])
                   for d, role in zip(manifest['disks'],
                                      ('root-image', 'volume'), strict=True)]
        self.flow = restore.get_flow(planned, SERVER)
        self.store = {'cloud': 'c', 'job_id': runs.JOB,
                      'backup_id': backup_id, 'repository_url': url}

    def test_restores_every_disk_onto_a_new_server(self):
        run = self.run_flow(self.flow, self.store)
        self.assertOrder(run.executed, RESTORE_ROOT, RESTORE_VOLUME)
        server_id = run.engine.storage.fetch('server_id')
        created = self.cloud.created()
        self.assertEqual([server_id], created['servers'])
        image_id = run.engine.storage.fetch('image_vda')
        volume_id = run.engine.storage.fetch('volume_vdb')
        self.assertEqual([image_id], created['images'])
        self.assertEqual([volume_id], created['volumes'])
        self.assertEqual((self.disks['vda'], self.disks['vdb']),
                         (self.cloud.data[image_id],
                          self.cloud.data[volume_id]))
        self.assertEqual(image_id, self.cloud.servers[server_id]['image_id'])
        self.assertPlainStore(run, self.flow)

    def test_a_failed_server_creation_deletes_every_disk(self):
        self.cloud.fail('compute.create_server')
        run = self.run_flow(self.flow, self.store,
                            fails=sdk_exc.HttpException)
        self.assertEqual(['create-server'], run.failed)
        self.assertRevertedNewestFirst(run, RESTORE_ROOT, RESTORE_VOLUME)
        self.assertEqual({'servers': [], 'images': [], 'volumes': [],
                          'snapshots': []}, self.cloud.created())
