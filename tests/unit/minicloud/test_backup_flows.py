"""The backup-flows component: its services, venv, configuration, setup
steps, Keystone entries and readiness (nothing is started)."""

import os
from unittest import mock

import fixtures

from tools.minicloud import paths
from tools.minicloud import readiness
from tools.minicloud import render
from tools.minicloud import services
from tools.minicloud import util
from tools.minicloud.components import backup_flows as bf
from tools.minicloud.components import load

from tests.unit.minicloud import base

PW = 'service-secret-1234'
BF_PW = 'backup-flows-secret-5678'


class FakeCheckoutMixin:
    """TOP is a temporary checkout holding requirements.txt, setup.cfg."""

    def fake_checkout(self, name='checkout'):
        top = os.path.join(self.tmp, name)
        os.makedirs(top, exist_ok=True)
        for rel in bf.VENV_INPUTS:
            with open(os.path.join(top, rel), 'w') as f:
                f.write('%s of %s\n' % (rel, name))
        self.useFixture(fixtures.MonkeyPatch(
            'tools.minicloud.components.backup_flows.TOP', top))
        return top


class ServicesTestCase(FakeCheckoutMixin, base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.fake_checkout()
        self.venv = bf.venv_dir(self.s)
        self.conf = self.s.etc + '/backup-flows/backup-flows.conf'
        self.extra = self.s.etc + '/backup-flows/extra.conf'

    def test_excluded_by_default(self):
        core = services.table(self.s)
        table = services.table(self.s, load(['backup-flows']))
        self.assertEqual(set(core) | {'backup-flows-api',
                                      'backup-flows-conductor-1',
                                      'backup-flows-conductor-2'},
                         set(table))
        self.assertNotIn('backup-flows-api', core)

    def test_api_command_line(self):
        api = bf.BackupFlows().services(self.s)['backup-flows-api']
        self.assertEqual(
            [self.venv + '/bin/gunicorn', '--workers', '2', '--threads', '4',
             '--worker-class', 'gthread', '--bind', '127.0.0.1:8780',
             '--keep-alive', '75', '--graceful-timeout', '5',
             'backup_flows.api.wsgi:application'], api.cmd)
        self.assertEqual(self.conf + ':' + self.extra,
                         api.env['BACKUP_FLOWS_CONFIG_FILE'])
        self.assertTrue(api.env['PATH'].startswith(self.venv + '/bin:'))
        self.assertEqual(self.venv, api.env['VIRTUAL_ENV'])
        self.assertEqual((8780, '/', services.HTTP),
                         (api.port, api.http_path, api.restart_wait))
        self.assertEqual(8780, paths.PORTS['backup-flows-api'])

    def test_two_conductors_same_config(self):
        table = bf.BackupFlows().services(self.s)
        for name in ('backup-flows-conductor-1', 'backup-flows-conductor-2'):
            entry = table[name]
            self.assertEqual([self.venv + '/bin/backup-flows-conductor',
                              '--config-file', self.conf,
                              '--config-file', self.extra], entry.cmd)
            self.assertIsNone(entry.port)
            self.assertEqual(services.LOG_MARKER, entry.restart_wait)
            self.assertEqual(b'running jobs of board', entry.log_marker)
            self.assertEqual(self.venv + '/bin',
                             entry.env['PATH'].split(':')[0])

    def test_venv_follows_requirements_and_setup_cfg(self):
        self.assertEqual(self.s.cache, os.path.dirname(self.venv))
        self.assertTrue(os.path.basename(self.venv).startswith(
            'backup-flows-venv-'))
        self.assertNotEqual(self.s.venv, self.venv)
        with open(os.path.join(bf.TOP, 'setup.cfg'), 'a') as f:
            f.write('[entry_points]\n')
        self.assertNotEqual(self.venv, bf.venv_dir(self.s))


class EnsureVenvTestCase(FakeCheckoutMixin, base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.capture()
        self.top = self.fake_checkout()
        self.run = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.procs.run',
            side_effect=lambda s, cmd, log, env=None: os.makedirs(
                bf.venv_dir(s), exist_ok=True))).mock

    def commands(self):
        cmds = [c[0][1] for c in self.run.call_args_list]
        self.run.reset_mock()
        return cmds

    def test_built_once_then_linked_once(self):
        bf.ensure_venv(self.s)
        venv = bf.venv_dir(self.s)
        pip = venv + '/bin/pip'
        self.assertEqual([
            ['python3.11', '-m', 'venv', venv],
            [pip, 'install', '-q', '--no-input', 'setuptools>=64', 'wheel',
             'gunicorn', 'psycopg2-binary', '-r',
             self.top + '/requirements.txt'],
            [pip, 'install', '-q', '--no-input', '--no-deps',
             '--no-build-isolation', '-e', self.top]], self.commands())
        bf.ensure_venv(self.s)
        self.assertEqual([], self.commands())

    def test_no_changelog_written_into_checkout(self):
        bf.ensure_venv(self.s)
        env = self.run.call_args_list[-1][1]['env']
        self.assertEqual('1', env['SKIP_WRITE_GIT_CHANGELOG'])
        self.assertEqual('1', env['SKIP_GENERATE_AUTHORS'])
        self.assertTrue(env['PATH'].startswith(bf.venv_dir(self.s)))

    def test_other_checkout_same_requirements_is_relinked(self):
        bf.ensure_venv(self.s)
        venv = bf.venv_dir(self.s)
        self.commands()
        other = self.fake_checkout('other')
        for rel in bf.VENV_INPUTS:  # the same requirements
            with open(os.path.join(self.top, rel)) as src, \
                    open(os.path.join(other, rel), 'w') as dst:
                dst.write(src.read())
        self.assertEqual(venv, bf.venv_dir(self.s))
        bf.ensure_venv(self.s)
        self.assertEqual([[venv + '/bin/pip', 'install', '-q', '--no-input',
                           '--no-deps', '--no-build-isolation', '-e',
                           other]], self.commands())


class ConfigureTestCase(FakeCheckoutMixin, base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.fake_checkout()
        self.ensure = self.useFixture(fixtures.MockPatchObject(
            bf, 'ensure_venv')).mock
        self.psql = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.databases.psql')).mock
        self.run = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.procs.run')).mock
        self.state = {'secrets': {'service': PW}}

    def configure(self):
        self.assertEqual([], bf.BackupFlows().configure(self.s, self.state))
        path = self.s.etc + '/backup-flows/backup-flows.conf'
        with open(path) as f:
            return {section: dict(options) for section, options
                    in render.parse_ini(f.read())}

    def test_password_generated_then_kept(self):
        self.configure()
        password = self.state['secrets']['backup-flows']
        self.assertEqual(24, len(password))
        self.assertNotEqual(PW, password)
        self.configure()
        self.assertEqual(password, self.state['secrets']['backup-flows'])

    def test_configuration(self):
        self.state['secrets']['backup-flows'] = BF_PW
        conf = self.configure()
        self.assertEqual({'state_path': self.home + '/backup-flows',
                          'debug': 'true', 'use_stderr': 'true'},
                         conf['DEFAULT'])
        self.assertTrue(os.path.isdir(self.home + '/backup-flows'))
        self.assertEqual({'auth_strategy': 'keystone'}, conf['api'])
        auth = conf['keystone_authtoken']
        self.assertEqual(('backup-flows', BF_PW, 'service', 'password'),
                         (auth['username'], auth['password'],
                          auth['project_name'], auth['auth_type']))
        self.assertEqual('http://127.0.0.1:5000',
                         auth['www_authenticate_uri'])
        self.assertEqual('true', auth['service_token_roles_required'])
        self.assertEqual({'auth_type': 'password',
                          'auth_url': 'http://127.0.0.1:5000',
                          'username': 'backup-flows', 'password': BF_PW,
                          'user_domain_name': 'Default',
                          'region_name': 'RegionOne'}, conf['trustee'])
        self.assertEqual(paths.PG + 'minicloud_backup_flows',
                         conf['database']['connection'])
        self.assertEqual({'mode': 'jobboard', 'persistence_connection':
                          paths.PG + 'minicloud_backup_flows_jobs'},
                         conf['engine'])
        self.assertEqual({'backend': 'redis', 'redis_host': '127.0.0.1',
                          'redis_port': '6379',
                          'name': 'minicloud-backup-flows',
                          'claim_expiry': '15'},
                         conf['jobboard'])
        self.assertTrue(conf['repository']['url'].endswith(
            '/repositories/{project_id}'), conf['repository'])
        self.assertEqual({}, conf['oslo_messaging_notifications'])

    def test_extra_conf_empty_for_later_options(self):
        self.configure()
        with open(self.s.etc + '/backup-flows/extra.conf') as f:
            self.assertEqual([], render.parse_ini(f.read()))

    def test_fresh_databases_board_and_schemas(self):
        self.configure()
        self.ensure.assert_called_once_with(self.s)
        self.assertEqual(
            ('DROP DATABASE IF EXISTS minicloud_backup_flows WITH (FORCE)',
             'CREATE DATABASE minicloud_backup_flows',
             'DROP DATABASE IF EXISTS minicloud_backup_flows_jobs '
             'WITH (FORCE)',
             'CREATE DATABASE minicloud_backup_flows_jobs'),
            self.psql.call_args[0][1:])
        vbin = bf.venv_dir(self.s) + '/bin'
        manage = [vbin + '/backup-flows-manage'] + bf.config_args(self.s)
        cmds = [c[0][1] for c in self.run.call_args_list]
        self.assertIn(manage + ['db', 'sync'], cmds)
        self.assertIn(manage + ['job', 'list'], cmds)
        clear = [c for c in cmds if c[0] == vbin + '/python']
        self.assertEqual([[vbin + '/python', '-c', bf.CLEAR_BOARD,
                           '127.0.0.1', '6379', 'minicloud-backup-flows']],
                         clear)
        self.assertEqual({'backup-flows-setup'},
                         {c[0][2] for c in self.run.call_args_list})

    def test_failed_db_sync_fails(self):
        self.run.side_effect = util.Failure('db sync failed')
        self.assertRaises(util.Failure, bf.BackupFlows().configure,
                          self.s, self.state)


class IdentityTestCase(base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.conn = mock.Mock()
        self.useFixture(fixtures.MockPatch('tools.minicloud.util.admin_conn',
                                           return_value=self.conn))
        self.register = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.resources.register_services')).mock
        self.idn = self.conn.identity
        self.idn.find_user.return_value = None
        self.idn.services.return_value = []
        self.secrets = {'admin': 'a', 'backup-flows': BF_PW}
        self.steps = bf.BackupFlows().resources(self.s,
                                                {'secrets': self.secrets})

    def test_user_role_and_catalog(self):
        util.parallel(self.steps)
        domain = self.idn.find_domain.return_value
        project = self.idn.find_project.return_value
        self.idn.find_project.assert_called_once_with(
            'service', domain_id=domain.id, ignore_missing=False)
        self.idn.find_role.assert_called_once_with('service',
                                                   ignore_missing=False)
        self.idn.create_user.assert_called_once_with(
            name='backup-flows', password=BF_PW, domain_id=domain.id,
            default_project_id=project.id)
        self.idn.assign_project_role_to_user.assert_called_once_with(
            project, self.idn.create_user.return_value,
            self.idn.find_role.return_value)
        self.register.assert_called_once_with(self.conn, [
            ('backup-flows', 'server-protection', 'http://127.0.0.1:8780')])

    def test_retried_keeps_what_exists(self):
        self.idn.find_user.return_value = user = mock.Mock()
        self.idn.services.return_value = [mock.Mock(type='server-protection')]
        util.parallel(self.steps)
        self.idn.create_user.assert_not_called()
        self.assertIs(user,
                      self.idn.assign_project_role_to_user.call_args[0][1])
        self.register.assert_not_called()


class ReadinessTestCase(base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'tools.minicloud.components.backup_flows.STEADY_SECONDS', 0))
        self.log = self.tmp + '/conductor.log'
        self.svc = {'pid': os.getpid(),
                    'start_time': bf.procs.start_time(os.getpid()),
                    'log': self.log}
        self.entry = services.Service('backup-flows-conductor-1', [],
                                      log_marker=bf.CONDUCTOR_MARKER)

    def test_conductor_ready_once_it_runs_the_board(self):
        with open(self.log, 'w') as f:
            f.write('INFO Conductor h:1 running jobs of board '
                    'minicloud-backup-flows (at most 4 at once)\n')
        bf.wait_conductor(self.entry, self.svc)

    def test_dead_conductor_fails(self):
        with open(self.log, 'w') as f:
            f.write('ERROR the jobboard cannot be used\n')
        dead = dict(self.svc, start_time='1')
        e = self.assertRaises(util.Failure, bf.wait_conductor, self.entry,
                              dead)
        self.assertEqual(self.log, e.log)

    def test_dead_api_fails(self):
        e = self.assertRaises(util.Failure, bf.wait_versions,
                              {'pid': None, 'log': self.log})
        self.assertIn('backup-flows-api exited', str(e))

    def test_wait_ready_waits_for_api_and_both_conductors(self):
        versions = self.useFixture(fixtures.MockPatchObject(
            bf, 'wait_versions')).mock
        conductor = self.useFixture(fixtures.MockPatchObject(
            bf, 'wait_conductor')).mock
        svcs = {n: {'pid': n} for n in bf.BackupFlows.service_names}
        bf.BackupFlows().wait_ready(self.s, {'services': svcs})
        versions.assert_called_once_with(svcs['backup-flows-api'])
        self.assertEqual(
            ['backup-flows-conductor-1', 'backup-flows-conductor-2'],
            sorted(c[0][0].name for c in conductor.call_args_list))

    def test_restarted_conductor_waits_for_its_marker(self):
        marker = self.useFixture(fixtures.MockPatchObject(
            readiness, 'wait_log_marker')).mock
        entry = bf.BackupFlows().services(self.s)['backup-flows-conductor-2']
        state = {'services': {entry.name: self.svc}}
        readiness.wait_restarted(self.s, state, {}, entry, 123)
        marker.assert_called_once_with(entry, self.svc, 123)
