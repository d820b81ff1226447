"""Boot properties and local disks, end to end against the minicloud.

A server booted from an image with boot properties (disk bus, firmware,
distribution, architecture, minimum RAM and disk) is backed up; the image is
deleted; the restored server's image (or boot volume) still has every one of
them, from the backup alone. A flavor with an ephemeral disk and swap is
refused by ``backup create`` by default, before anything is created, and
backed up with ``[backup] local_disks = skip``.
"""

import json
import os

from backup_flows.cloud import snapshot_sets as sets

from tests.functional import minicloud as mc
from tests.functional.restore import test_restore

BOOT_PROPERTIES = {
    'hw_disk_bus': 'scsi', 'hw_scsi_model': 'virtio-scsi',
    'hw_firmware_type': 'uefi', 'hw_qemu_guest_agent': 'yes',
    'os_distro': 'cirros', 'os_type': 'linux', 'architecture': 'x86_64',
}
MIN_RAM = 256  # MiB, the RAM of m1.nano and of the local-disk flavor
MIN_DISK = 1  # GiB


class BootPropertiesTestCase(test_restore.RestoreTestCase):

    # The refused backup must leave the project as it was: nothing else
    # may create resources there meanwhile.
    OWN_PROJECT = True

    def image_with_boot_properties(self):
        """A private copy of the base image with BOOT_PROPERTIES, min_ram,
        min_disk and a property that is not a boot property."""
        base = self.conn.image.find_image(mc.BASE_IMAGE,
                                          ignore_missing=False)
        data = self.conn.image.download_image(base).content
        image = self.conn.image.create_image(
            name=self._name('props'), data=data, disk_format='raw',
            container_format='bare', allow_duplicates=True,
            validate_checksum=False, min_ram=MIN_RAM, min_disk=MIN_DISK,
            app_owner='team-x', **BOOT_PROPERTIES)
        self.cleanup_image(image.id)
        return self.wait_image_active(image.id)

    def delete_source_image(self, image):
        self.conn.image.delete_image(image.id)
        self.assertIsNone(self.conn.image.find_image(image.id))

    def glance_document(self, image_id):
        # Glance's JSON: the SDK's Image renames some properties.
        response = self.conn.image.get('/images/%s' % image_id)
        response.raise_for_status()
        return response.json()

    def assertBootProperties(self, props):
        self.assertEqual(BOOT_PROPERTIES, {
            key: props.get(key) for key in BOOT_PROPERTIES})
        self.assertEqual((str(MIN_RAM), str(MIN_DISK)),
                         (str(props.get('min_ram')),
                          str(props.get('min_disk'))))
        self.assertNotIn('app_owner', props)

    def config_file(self, name, text):
        path = os.path.join(self.cli.state, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def project_resources(self):
        project_id = self.conn.current_project_id
        return {
            'images': sorted(i.id for i in self.conn.image.images()
                             if i.owner == project_id),
            'volumes': sorted(v.id for v in self.conn.block_storage.volumes()),
            'snapshots': sorted(
                s.id for s in self.conn.block_storage.snapshots()),
            'servers': sorted(s.id for s in self.conn.compute.servers()),
        }

    def local_disk_flavor(self):
        """A private flavor like m1.nano with a 1 GiB ephemeral disk and
        16 MiB of swap, for this test's project."""
        compute = self.admin_conn.compute
        flavor = compute.create_flavor(
            name=self._name('flavor'), vcpus=1, ram=MIN_RAM, disk=0,
            ephemeral=1, swap=16, is_public=False)
        self.addCleanup(compute.delete_flavor, flavor.id,
                        ignore_missing=True)
        compute.flavor_add_tenant_access(flavor.id,
                                         self.conn.current_project_id)
        return flavor

    def assertRefused(self, fragment, *argv):
        rc, _, err = self.cli.run(*argv)
        lines = err.strip().splitlines()
        self.assertEqual((2, 1), (rc, len(lines)), err)
        self.assertTrue(lines[0].startswith('ERROR: '), err)
        self.assertIn(fragment, lines[0])


class TestBootProperties(BootPropertiesTestCase):

    def test_image_backed_server_with_ephemeral_disk_and_swap(self):
        image = self.image_with_boot_properties()
        flavor = self.local_disk_flavor()
        server = self.create_server(image=image.id, flavor=flavor.id)
        root_path = mc.server_disk_path(server.id)
        self.write_pattern(root_path, 'root')
        before = self.project_resources()
        create = ('backup', 'create', server.id, '--repository',
                  self.repo_url, '--quiesce', 'none')

        # Refused by default, and for a bad option value; nothing created.
        self.assertRefused('set [backup] local_disks = skip', *create)
        bad = self.config_file('bad.conf', '[backup]\nlocal_disks = keep\n')
        self.assertRefused(
            "[backup] local_disks: Valid values are [refuse, skip], but "
            "found 'keep'", '--config-file', bad, *create)
        self.assertEqual(before, self.project_resources())
        self.assertEqual([], self.cli.json('job', 'list'))
        self.assertEqual([], self.cli.json('backup', 'list', '--repository',
                                           self.repo_url))

        # Backed up without them with local_disks = skip.
        skip = self.config_file('skip.conf', '[backup]\nlocal_disks = skip\n')
        rc, out, err = self.cli.run('--format', 'json', '--config-file',
                                    skip, *create)
        self.assertEqual(0, rc, err)
        self.assertIn('ephemeral disk is not backed up', err)
        skipped = [{'kind': 'ephemeral', 'size_gb': 1},
                   {'kind': 'swap', 'size_mb': 16}]
        backup_id = json.loads(out)['id']
        self.assertEqual(skipped, json.loads(out)['skipped_disks'])
        rc, out, err = self.cli.run('backup', 'show', backup_id,
                                    '--repository', self.repo_url)
        self.assertEqual(0, rc, err)
        self.assertIn('"kind": "ephemeral", "size_gb": 1', out)
        self.assertEqual([mc.sha256_of(root_path)],
                         [d['sha256'] for d in
                          self.manifest(backup_id).values()])

        # Restored without the source image: every boot property is kept.
        self.delete_source_image(image)
        result = self.restore(backup_id, '--name', self._name('restored'))

        self.assertEqual([], result['warnings'])
        new = self.conn.compute.get_server(result['server_id'])
        self.assertEqual('ACTIVE', new.status)
        self.assertEqual(result['image_id'], new.image['id'])
        self.assertBootProperties(self.glance_document(result['image_id']))
        self.assertEqual(list(self.manifest(backup_id).values())[0]['sha256'],
                         mc.sha256_of(mc.server_disk_path(new.id)))
        # The flavor gives the new server (empty) local disks again.
        self.assertEqual((1, 16), (new.flavor['ephemeral'],
                                   new.flavor['swap']))

    def test_boot_volume_keeps_its_image_metadata(self):
        image = self.image_with_boot_properties()
        boot = self.create_volume(size=1, image_id=image.id,
                                  volume_type=mc.SMALL_VOLUME_TYPE)
        server = self.create_server(
            flavor=mc.SMALL_FLAVOR, block_device_mapping=[{
                'boot_index': 0, 'uuid': boot.id, 'source_type': 'volume',
                'destination_type': 'volume',
                'delete_on_termination': False}])
        self.write_pattern(mc.volume_path(boot.id), 'boot')
        self.stop(server)
        backup_id, definition = self.backup(server)
        self.assertEqual(image.id, definition['image']['id'])
        disk = self.manifest(backup_id)[definition['disks'][0]['disk']]
        self.delete_source_image(image)

        result = self.restore(backup_id, '--name', self._name('restored'))

        self.assertEqual([], result['warnings'])
        volume = self.assertRestoredVolume(result['volume_ids'][0], disk)
        self.assertBootProperties(volume.volume_image_metadata)
        # The temporary image the volume was created from is gone.
        self.assertEqual([], [
            i.id for i in self.conn.image.images()
            if sets.image_properties(i).get('backup_flows_job_id') ==
            result['job_id']])
