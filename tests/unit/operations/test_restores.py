import copy

import fixtures
from openstack.compute.v2 import flavor as sdk_flavor
import testtools

from backup_flows import exceptions
from backup_flows.operations import restore_mapping

from tests.unit import fake_sdk

MiB = 1 << 20
PROPERTIES = {'hw_disk_bus': 'scsi', 'hw_firmware_type': 'uefi',
              'os_distro': 'cirros', 'architecture': 'x86_64'}
BACKUP_PROPERTIES = {'backup_flows_backup_id': 'bk-1'}
IMAGE_BACKED = {
    'version': 1, 'id': 'srv-1', 'name': 'web-1',
    'flavor': {'id': 'f1', 'name': 'm1.nano'},
    'image': {'id': 'img-1', 'name': 'cirros', 'properties': PROPERTIES,
              'min_disk': 1, 'min_ram': 256},
    'boot_from_volume': False,
    'disks': [{'disk': 'vda', 'role': 'root-image', 'device': '/dev/vda',
               'boot_index': 0},
              {'disk': 'vdb', 'role': 'volume', 'device': '/dev/vdb',
               'boot_index': None, 'volume_id': 'vol-2', 'size_gb': 1,
               'volume_type': None}]}
VOLUME_BACKED = {
    'version': 1, 'id': 'srv-1', 'name': 'web-1',
    'flavor': {'id': 'f1', 'name': 'm1.nano'},
    'image': {'id': 'img-1', 'name': 'cirros', 'properties': PROPERTIES,
              'min_disk': 1, 'min_ram': 256},
    'boot_from_volume': True,
    'disks': [{'disk': 'vda', 'role': 'root-volume', 'device': '/dev/vda',
               'boot_index': 0, 'volume_id': 'vol-1', 'size_gb': 1,
               'volume_type': None,
               'image_metadata': {'image_id': 'img-1',
                                  'hw_disk_bus': 'scsi',
                                  'os_distro': 'cirros',
                                  'architecture': 'x86_64',
                                  'hw_firmware_type': 'uefi',
                                  'min_disk': '1', 'min_ram': '256'}}]}


def manifest(server):
    return {'metadata': {'server': server},
            'disks': [{'name': d['disk'], 'size': 64 * MiB, 'sha256': 'ab'}
                      for d in server['disks']]}


def older(server):
    """``server`` as a backup-flows that kept only the image's id and
    name wrote it."""
    server = copy.deepcopy(server)
    server['image'] = (None if server['boot_from_volume'] else
                       {'id': 'img-1', 'name': 'cirros'})
    return server


class PlanTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conn = fake_sdk.connection()
        self.log = self.useFixture(fixtures.FakeLogger())

    def plan(self, server):
        return restore_mapping.Mapping(self.conn, 'target', 'bk-1',
                                       manifest(server))

    def root_spec(self, plan):
        disks = plan.disks('restored', None, None)
        return disks[0]['image']

    def assertBootProperties(self, spec):
        self.assertEqual(dict(PROPERTIES, min_ram=256, **BACKUP_PROPERTIES,
                              backup_flows_disk='vda'), spec['properties'])
        self.assertEqual(1, spec['min_disk'])

    def test_recorded_properties_need_no_source_image(self):
        plan = self.plan(IMAGE_BACKED)
        disks = plan.disks('restored', None, None)
        self.assertBootProperties(disks[0]['image'])
        # a data volume's temporary image gets none of them
        self.assertEqual(dict(BACKUP_PROPERTIES, backup_flows_disk='vdb'),
                         disks[1]['image']['properties'])
        self.assertNotIn('min_disk', disks[1]['image'])
        self.conn.image.get.assert_not_called()
        self.assertEqual([], plan.warnings)

    def test_boot_volume_image_gets_the_recorded_properties(self):
        # Cinder copies them into the boot volume's image metadata.
        plan = self.plan(VOLUME_BACKED)
        disks = plan.disks('restored', None, None)
        self.assertEqual('root-volume', disks[0]['role'])
        self.assertBootProperties(disks[0]['image'])
        self.conn.image.get.assert_not_called()

    def test_older_boot_volume_backup_uses_its_image_metadata(self):
        self.assertBootProperties(self.root_spec(self.plan(
            older(VOLUME_BACKED))))
        self.conn.image.get.assert_not_called()

    def test_older_backup_reads_the_source_image(self):
        fake_sdk.returns(self.conn.image.get, fake_sdk.response(200, dict(
            PROPERTIES, id='img-1', name='cirros', min_disk=1, min_ram=256,
            os_hash_value='ab', status='active')))
        plan = self.plan(older(IMAGE_BACKED))
        self.assertBootProperties(self.root_spec(plan))
        self.conn.image.get.assert_called_once_with('/images/img-1')
        self.assertEqual([], plan.warnings)

    def test_older_backup_without_its_source_image_warns(self):
        fake_sdk.returns(self.conn.image.get, fake_sdk.response(404))
        plan = self.plan(older(IMAGE_BACKED))
        spec = self.root_spec(plan)
        self.assertEqual(dict(BACKUP_PROPERTIES, backup_flows_disk='vda'),
                         spec['properties'])
        self.assertEqual(0, spec['min_disk'])
        self.assertEqual(1, len(plan.warnings))
        self.assertIn('records no boot properties (hw_*, os_*...) of its '
                      'image img-1, which is not in cloud target either',
                      plan.warnings[0])
        # looked up once, however often the plan asks
        fake_sdk.returns(self.conn.compute.find_flavor, sdk_flavor.Flavor(
            id='f1', name='m1.nano', ram=256, disk=0))
        plan.flavor(None, plan.disks('restored', None, None)[0])
        self.conn.image.get.assert_called_once_with('/images/img-1')
        self.assertEqual(1, len(plan.warnings))


class FlavorMinimumsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conn = fake_sdk.connection()

    def check(self, server, **flavor):
        fake_sdk.returns(self.conn.compute.find_flavor, sdk_flavor.Flavor(
            id='f2', name='m1.other', **flavor))
        plan = restore_mapping.Mapping(self.conn, 'target', 'bk-1',
                                       manifest(server))
        return plan.flavor('m1.other', plan.disks('restored', None, None)[0])

    def test_flavor_with_enough_ram_and_disk(self):
        self.assertEqual('f2', self.check(IMAGE_BACKED, ram=256, disk=1).id)
        # a flavor without a root disk size takes the image's
        self.assertEqual('f2', self.check(IMAGE_BACKED, ram=256, disk=0).id)

    def test_flavor_below_min_ram_is_refused(self):
        for server in (IMAGE_BACKED, VOLUME_BACKED):
            exc = self.assertRaises(exceptions.InvalidInput, self.check,
                                    server, ram=128, disk=1)
            self.assertIn('flavor m1.other has 128 MiB of RAM, less than the '
                          '256 MiB', str(exc))
            self.assertEqual(exceptions.EXIT_USAGE, exc.exit_code)

    def test_flavor_below_min_disk_is_refused_for_a_local_root_disk(self):
        server = copy.deepcopy(IMAGE_BACKED)
        server['image']['min_disk'] = 2
        exc = self.assertRaises(exceptions.InvalidInput, self.check, server,
                                ram=256, disk=1)
        self.assertIn('1 GiB root disk, less than the 2 GiB', str(exc))
        # a boot volume is as large as the original, whatever the flavor
        server = copy.deepcopy(VOLUME_BACKED)
        server['image']['min_disk'] = 2
        self.assertEqual('f2', self.check(server, ram=256, disk=1).id)
