import os

import fixtures
from openstack.block_storage.v3 import volume as sdk_volume
from openstack.compute.v2 import server as sdk_server
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows.cloud import server_definition as definition

from tests.unit import fake_sdk

# Glance's JSON of a source image: fields, boot properties, and what a
# restore must not get (Glance's own, signatures, the source cloud's).
IMAGE_DOCUMENT = {
    'id': 'img-1', 'name': 'cirros', 'status': 'active',
    'disk_format': 'qcow2', 'min_disk': 1, 'min_ram': 256,
    'os_hidden': False, 'os_hash_algo': 'sha512', 'os_hash_value': 'ab',
    'hw_disk_bus': 'scsi', 'hw_scsi_model': 'virtio-scsi',
    'hw_firmware_type': 'uefi', 'hw_boot_menu': 'true',
    'os_distro': 'cirros', 'os_type': 'linux', 'architecture': 'x86_64',
    'img_config_drive': 'mandatory', 'trait:CUSTOM_FAST': 'required',
    'img_signature': 'sig', 'img_signature_hash_method': 'SHA-256',
    'img_block_device_mapping': '[]', 'img_owner_id': 'p1',
    'kernel_id': 'img-kernel', 'app': 'web',
}
BOOT_PROPERTIES = {
    'hw_disk_bus': 'scsi', 'hw_scsi_model': 'virtio-scsi',
    'hw_firmware_type': 'uefi', 'hw_boot_menu': 'true',
    'os_distro': 'cirros', 'os_type': 'linux', 'architecture': 'x86_64',
    'img_config_drive': 'mandatory', 'trait:CUSTOM_FAST': 'required',
}
FLAVOR = {'original_name': 'm1.nano', 'vcpus': 1, 'ram': 256, 'disk': 0,
          'ephemeral': 0, 'swap': 0, 'extra_specs': {}}


def server(**attrs):
    base = dict(id='srv-1', name='web-1', status='ACTIVE', image={},
                flavor=FLAVOR, availability_zone='nova', key_name=None,
                security_groups=[], metadata={}, tags=[])
    base.update(attrs)
    return sdk_server.Server(**base)


class CaptureTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conn = fake_sdk.connection()
        fake_sdk.returns(self.conn.network.ports, [])
        self.log = self.useFixture(fixtures.FakeLogger())

    def test_image_backed_server_records_the_boot_properties(self):
        fake_sdk.returns(self.conn.compute.get_server,
                         server(image={'id': 'img-1'}))
        fake_sdk.returns(self.conn.image.get,
                         fake_sdk.response(200, IMAGE_DOCUMENT))
        result = definition.capture(self.conn, {
            'id': 'srv-1', 'root': {'kind': 'image', 'image_id': 'img-1'},
            'volumes': []})
        self.assertEqual({'id': 'img-1', 'name': 'cirros',
                          'properties': BOOT_PROPERTIES,
                          'min_disk': 1, 'min_ram': 256}, result['image'])
        # Glance's own JSON, not the SDK's Image (which renames some)
        self.conn.image.get.assert_called_once_with('/images/img-1')
        self.assertEqual([], result['skipped_disks'])
        self.assertIs(result['image'],
                      definition.recorded_boot_image(result))

    def test_image_gone_at_backup_time_records_no_properties(self):
        fake_sdk.returns(self.conn.compute.get_server,
                         server(image={'id': 'img-1'}))
        fake_sdk.returns(self.conn.image.get, fake_sdk.response(404))
        result = definition.capture(self.conn, {
            'id': 'srv-1', 'root': {'kind': 'image', 'image_id': 'img-1'},
            'volumes': []})
        self.assertEqual({'id': 'img-1', 'name': None}, result['image'])
        self.assertIsNone(definition.recorded_boot_image(result))
        self.assertIn('Image img-1 of server srv-1 is gone', self.log.output)

    def test_boot_volume_records_the_properties_of_its_image(self):
        fake_sdk.returns(self.conn.compute.get_server, server(image=''))
        fake_sdk.returns(self.conn.block_storage.get_volume, sdk_volume.Volume(
            id='vol-1', name='boot', volume_type='fast', size=1,
            is_bootable=True, description=None,
            volume_image_metadata={
                'image_id': 'img-1', 'image_name': 'cirros',
                'checksum': 'c0ffee', 'container_format': 'bare',
                'disk_format': 'raw', 'size': '67108864',
                'min_disk': '1', 'min_ram': '256',
                'hw_disk_bus': 'scsi', 'os_distro': 'cirros',
                'architecture': 'x86_64', 'os_hash_value': 'ab',
                'signature_verified': 'False'}))
        result = definition.capture(self.conn, {
            'id': 'srv-1', 'volumes': [],
            'root': {'kind': 'volume', 'volume_id': 'vol-1',
                     'device': '/dev/vda'}})
        self.assertTrue(result['boot_from_volume'])
        self.assertEqual(
            {'id': 'img-1', 'name': 'cirros', 'min_disk': 1, 'min_ram': 256,
             'properties': {'hw_disk_bus': 'scsi', 'os_distro': 'cirros',
                            'architecture': 'x86_64'}}, result['image'])
        self.conn.image.get.assert_not_called()

    def test_boot_volume_without_image_metadata(self):
        fake_sdk.returns(self.conn.compute.get_server, server(image=''))
        fake_sdk.returns(self.conn.block_storage.get_volume, sdk_volume.Volume(
            id='vol-1', name='boot', size=1, volume_image_metadata=None))
        result = definition.capture(self.conn, {
            'id': 'srv-1', 'volumes': [],
            'root': {'kind': 'volume', 'volume_id': 'vol-1',
                     'device': '/dev/vda'}})
        self.assertIsNone(result['image'])
        self.assertEqual({}, definition.recorded_boot_image(
            result)['properties'])

    def test_local_disks_are_recorded_as_skipped(self):
        fake_sdk.returns(self.conn.compute.get_server, server(
            image={'id': 'img-1'},
            flavor=dict(FLAVOR, ephemeral=2, swap=512)))
        fake_sdk.returns(self.conn.image.get,
                         fake_sdk.response(200, IMAGE_DOCUMENT))
        result = definition.capture(self.conn, {
            'id': 'srv-1', 'root': {'kind': 'image', 'image_id': 'img-1'},
            'volumes': []})
        self.assertEqual([{'kind': 'ephemeral', 'size_gb': 2},
                          {'kind': 'swap', 'size_mb': 512}],
                         result['skipped_disks'])


class OlderDefinitionsTestCase(testtools.TestCase):

    def test_image_backed_without_properties_records_none(self):
        self.assertIsNone(definition.recorded_boot_image({
            'image': {'id': 'img-1', 'name': 'cirros'},
            'disks': [{'disk': 'vda', 'role': 'root-image'}]}))

    def test_boot_volume_image_metadata_is_used(self):
        image = definition.recorded_boot_image({
            'image': None,
            'disks': [{'disk': 'vda', 'role': 'root-volume',
                       'image_metadata': {'image_id': 'img-1',
                                          'hw_qemu_guest_agent': 'yes',
                                          'min_ram': '128'}}]})
        self.assertEqual(({'hw_qemu_guest_agent': 'yes'}, 128, 0),
                         (image['properties'], image['min_ram'],
                          image['min_disk']))


class LocalDisksTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.config = self.useFixture(config_fixture.Config(bf_conf.CONF))
        self.log = self.useFixture(fixtures.FakeLogger())

    def facts(self, **flavor):
        return {'id': 'srv-1', 'flavor': dict(FLAVOR, **flavor)}

    def test_flavor_local_disks(self):
        self.assertEqual([], definition.local_disks({}))
        # swap is "" for none before compute API 2.75
        self.assertEqual([], definition.local_disks({'ephemeral': 0,
                                                     'swap': ''}))
        self.assertEqual([{'kind': 'swap', 'size_mb': 64}],
                         definition.local_disks({'swap': 64}))

    def test_ephemeral_disk_is_refused_by_default(self):
        self.assertEqual('refuse', bf_conf.CONF.backup.local_disks)
        exc = self.assertRaises(exceptions.InvalidInput,
                                definition.check_local_disks,
                                self.facts(ephemeral=1, swap=64))
        self.assertEqual(exceptions.EXIT_USAGE, exc.exit_code)
        message = str(exc)
        self.assertNotIn('\n', message)
        self.assertIn('server srv-1 has a 1 GiB ephemeral disk (flavor '
                      'm1.nano)', message)
        self.assertIn('[backup] local_disks = skip', message)

    def test_skip_backs_up_the_other_disks_with_a_warning(self):
        self.config.config(group='backup', local_disks='skip')
        self.assertEqual(
            [{'kind': 'ephemeral', 'size_gb': 1},
             {'kind': 'swap', 'size_mb': 64}],
            definition.check_local_disks(self.facts(ephemeral=1, swap=64)))
        self.assertIn('ephemeral disk is not backed up', self.log.output)

    def test_caller_policy_overrides_the_option(self):
        # a drill backs up its restored server whatever the option says
        self.assertEqual(
            [{'kind': 'ephemeral', 'size_gb': 1}],
            definition.check_local_disks(self.facts(ephemeral=1), 'skip'))

    def test_swap_alone_is_skipped_even_when_refusing(self):
        self.assertEqual(
            [{'kind': 'swap', 'size_mb': 64}],
            definition.check_local_disks(self.facts(swap=64)))
        self.assertIn('64 MiB swap disk is not backed up', self.log.output)

    def test_no_local_disk(self):
        self.assertEqual([], definition.check_local_disks(self.facts()))

    def test_bad_option_value_is_one_line_invalid_input(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'backup-flows.conf')
        with open(path, 'w') as f:
            f.write('[backup]\nlocal_disks = bogus\n')
        fresh = cfg.ConfigOpts()
        bf_conf.register_opts(fresh)
        fresh(['--config-file', path], project='backup-flows',
              default_config_files=[])
        self.useFixture(fixtures.MockPatchObject(definition, 'CONF', fresh))
        exc = self.assertRaises(exceptions.InvalidInput,
                                definition.check_local_disks, self.facts())
        self.assertEqual(
            "Invalid input: [backup] local_disks: Valid values are "
            "[refuse, skip], but found 'bogus'", str(exc))


class CreateChecksLocalDisksTestCase(testtools.TestCase):
    """backup create refuses before it captures or creates anything."""

    def test_refused_before_anything_is_created(self):
        from backup_flows.operations import backups
        facts = {'id': 'srv-1', 'name': 'web-1', 'status': 'ACTIVE',
                 'task_state': None, 'flavor': dict(FLAVOR, ephemeral=1),
                 'root': {'kind': 'image', 'image_id': 'img-1'},
                 'volumes': [], 'guest_agent': False}
        for target, kwargs in (
                ('clients.check_cloud', {}),
                ('operations.backups.open_repository', {}),
                ('cloud.servers.describe', {'return_value': facts})):
            self.useFixture(fixtures.MockPatch('backup_flows.' + target,
                                               **kwargs))
        capture = self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.server_definition.capture')).mock
        run_flow = self.useFixture(fixtures.MockPatch(
            'backup_flows.engine.run_flow')).mock
        self.assertRaises(exceptions.InvalidInput, backups.create, 'web-1',
                          quiesce='none')
        capture.assert_not_called()
        run_flow.assert_not_called()
