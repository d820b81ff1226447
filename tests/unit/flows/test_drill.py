"""Drill flow: restore, read back, compare, clean up; every resource it
creates deleted by its own tasks."""

import testtools

from backup_flows import keys
from backup_flows.flows import drill

from tests import flowutils

SERVER = {'name': 'drill-b1', 'flavor_id': 'f1', 'networks': 'none',
          'metadata': {}, 'tags': [], 'security_groups': []}


def _disk(name, role):
    disk = {'disk': name, 'role': role, 'size': 10, 'sha256': 'ab',
            'image': {'role': 'restore-image-%s' % name,
                      'name': 'drill-b1-%s' % name}}
    if role != 'root-image':
        disk['volume'] = {'role': 'restore-volume-%s' % name,
                          'name': 'drill-b1-%s' % name, 'size_gb': 1}
    return disk


IMAGE_BACKED = [_disk('vda', 'root-image'), _disk('vdb', 'volume')]
BOOT_VOLUME = [_disk('vda', 'root-volume')]


def _atoms(flow):
    return {atom.name: atom for atom in flowutils.atoms(flow)}


class DrillFlowTestCase(testtools.TestCase):

    def test_shape_after_the_restore(self):
        flow = drill.get_flow(IMAGE_BACKED, SERVER, verify='deep')
        names = [a.name for a in flowutils.atoms(flow)]
        self.assertEqual(keys.FLOW_BACKUP_DRILL, flow.name)
        self.assertEqual('verify-backup-data', names[0])
        self.assertTrue(_atoms(flow)['verify-backup-data'].inject['deep'])
        # The disks are read back and compared before the server exists.
        after = names[names.index('verify-volume-vdb') + 2:]
        self.assertEqual(
            ['upload-drill-volume-vdb', 'wait-drill-image-vdb',
             'compare-disk-vda', 'compare-disk-vdb', 'check-drill-disks',
             'create-server', 'wait-server-active', 'delete-drill-server',
             'delete-restored-image-vda', 'delete-drill-image-vdb',
             'delete-drill-volume-vdb', 'report-drill'], after)
        self.assertEqual('check-backup', names[1])
        self.assertEqual(len(names), len(set(names)))
        # The root disk is compared as Nova boots it: the restored image.
        self.assertEqual('image_vda', _atoms(flow)[
            'compare-disk-vda'].rebind['image_id'])

    def test_requires_only_plain_store_keys_provides_the_result(self):
        flow = drill.get_flow(IMAGE_BACKED, SERVER, verify='quick')
        self.assertEqual({'cloud', 'job_id', 'backup_id', 'repository_url'},
                         set(flow.requires))
        provided = {key for atom in flowutils.atoms(flow)
                    for key in atom.provides}
        self.assertLessEqual({keys.RESULT, keys.VERIFICATION}, provided)

    def test_without_verify_no_repository_check(self):
        flow = drill.get_flow(IMAGE_BACKED, SERVER)
        self.assertNotIn('verify-backup-data', _atoms(flow))

    def test_boot_volume_server_reads_its_root_volume_back(self):
        flow = drill.get_flow(BOOT_VOLUME, SERVER)
        atoms = _atoms(flow)
        self.assertEqual({'volume_vda'},
                         set(atoms['delete-drill-server'].requires) -
                         {'cloud', 'server_id'})
        self.assertEqual('volume_vda',
                         atoms['upload-drill-volume-vda'].rebind['volume_id'])
        self.assertEqual('drill_image_vda',
                         atoms['compare-disk-vda'].rebind['image_id'])
        self.assertIn('delete-drill-volume-vda', atoms)

    def test_clean_up_deletes_what_the_drill_created(self):
        atoms = _atoms(drill.get_flow(IMAGE_BACKED, SERVER))
        self.assertEqual(
            {'delete-restored-image-vda': {'image_id': 'image_vda'},
             'delete-drill-image-vdb': {'image_id': 'drill_image_vdb'},
             'delete-drill-volume-vdb': {'volume_id': 'volume_vdb'}},
            {name: {k: v for k, v in atoms[name].rebind.items()
                    if k in ('image_id', 'volume_id')}
             for name in atoms if name.startswith(
                 ('delete-drill-image', 'delete-restored',
                  'delete-drill-volume'))})

    def test_every_task_creating_a_resource_reverts(self):
        atoms = _atoms(drill.get_flow(IMAGE_BACKED, SERVER))
        for name in ('create-image-vda', 'create-image-vdb',
                     'create-volume-vdb', 'create-server',
                     'upload-drill-volume-vdb'):
            self.assertTrue(hasattr(type(atoms[name]).revert, '__wrapped__'),
                            name)

    def test_no_point_of_no_return(self):
        # Aborting a drill at any point reverts it: nothing is kept.
        self.assertEqual([], [a.name for a in flowutils.atoms(
            drill.get_flow(IMAGE_BACKED, SERVER))
            if a.point_of_no_return])
