"""Configuration templates render completely, under MINICLOUD_HOME."""

import os

from tools.minicloud import paths
from tools.minicloud import render
from tools.minicloud.components import REGISTRY
from tools.minicloud.components import cinder_backup

from tests.unit.minicloud import base

PW = 'service-secret-1234'


class RenderTestCase(base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.vals = render.values(self.s, PW)

    def read(self, rel):
        with open(os.path.join(self.s.etc, rel)) as f:
            return f.read()

    def test_every_template_renders_without_placeholders(self):
        files = render.template_files(paths.TEMPLATES)
        self.assertIn('nova/nova.conf', files)
        self.assertIn('components/cinder-backup/cinder/cinder.conf', files)
        self.assertIn('components/backup-flows/backup-flows/'
                      'backup-flows.conf', files)
        state = {'secrets': {'service': PW, 'backup-flows': 'bf-secret'}}
        component_vals = {name: cls().values(self.s, state)
                          for name, cls in REGISTRY.items()}
        for rel in files:
            parts = rel.split(os.sep)
            vals = (component_vals[parts[1]] if parts[0] == 'components'
                    else self.vals)
            text = render.render_file(os.path.join(paths.TEMPLATES, rel),
                                      vals)
            self.assertNotIn('${', text, rel)
            self.assertNotIn('$', text, rel)

    def test_core_files_under_home_with_secrets(self):
        written = render.render_core(self.s, self.vals)
        self.assertEqual(13, len(written))  # + 3 paste files from the venv
        for path in written:
            self.assertTrue(path.startswith(self.s.etc + '/'), path)
        nova = self.read('nova/nova.conf')
        self.assertIn('compute_driver = minicloud.MiniCloudDriver', nova)
        self.assertIn('state_path = %s/nova' % self.home, nova)
        self.assertIn('transport_url = %s' % paths.TRANSPORT, nova)
        self.assertEqual(4, nova.count('password = ' + PW))
        self.assertIn('connection = %sminicloud_keystone' % paths.PG,
                      self.read('keystone/keystone.conf'))
        self.assertIn('mysql+pymysql://minicloud:%s@127.0.0.1:3306/'
                      'minicloud_neutron?charset=utf8mb4' % PW,
                      self.read('neutron/neutron.conf'))
        self.assertIn('password = ' + PW, self.read('swift/proxy-server.conf'))
        cinder = self.read('cinder/cinder.conf')
        self.assertIn('helper_command = %s/privsep-helper --config-file '
                      '%s/cinder/cinder.conf' % (self.s.vbin, self.s.etc),
                      cinder)
        self.assertNotIn('backup_driver', cinder)

    def test_swift_servers_user_and_ports(self):
        render.render_core(self.s, self.vals)
        for kind, port in (('account', 6202), ('container', 6201),
                           ('object', 6200), ('proxy', 8080)):
            text = self.read('swift/%s-server.conf' % kind)
            self.assertIn('bind_port = %d' % port, text)
            self.assertIn('user = ' + self.vals['user'], text)
            self.assertIn('log_name = ' + kind, text)

    def test_component_merges_into_core_file(self):
        render.render_core(self.s, self.vals)
        state = {'secrets': {'service': PW}}
        restarts = cinder_backup.CinderBackup().configure(self.s, state)
        self.assertEqual(['cinder-api'], restarts)
        text = self.read('cinder/cinder.conf')
        default = dict(render.parse_ini(text)[0][1])
        self.assertEqual('cinder.backup.drivers.swift.SwiftBackupDriver',
                         default['backup_driver'])
        self.assertEqual('200', default['quota_backups'])
        self.assertEqual('200', default['quota_volumes'])
        cinder_backup.CinderBackup().configure(self.s, state)
        self.assertEqual(text, self.read('cinder/cinder.conf'))

    def test_missing_value_fails(self):
        vals = dict(self.vals)
        del vals['home']
        self.assertRaises(KeyError, render.render_file,
                          os.path.join(paths.TEMPLATES, 'nova', 'nova.conf'),
                          vals)


class SetOptionsTestCase(base.MiniCloudTestCase):

    TEXT = '[DEFAULT]\na = 1\nb = 2\n\n[x]\nc = 3\n'

    def test_replace_in_place(self):
        self.assertEqual('[DEFAULT]\na = 9\nb = 2\n\n[x]\nc = 3\n',
                         render.set_options(self.TEXT, 'DEFAULT',
                                            [('a', '9')]))

    def test_new_option_after_last_of_section(self):
        self.assertEqual('[DEFAULT]\na = 1\nb = 2\nd = 4\n\n[x]\nc = 3\n',
                         render.set_options(self.TEXT, 'DEFAULT',
                                            [('d', '4')]))

    def test_new_section_appended(self):
        self.assertEqual(self.TEXT + '\n[y]\ne = 5\n',
                         render.set_options(self.TEXT, 'y', [('e', '5')]))

    def test_other_section_untouched(self):
        self.assertEqual('[DEFAULT]\na = 1\nb = 2\n\n[x]\nc = 7\n',
                         render.set_options(self.TEXT, 'x', [('c', '7')]))
