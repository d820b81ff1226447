"""The command line: bad input is one line on stderr and exit status 2."""

import os

import fixtures

from tools.minicloud import cli
from tools.minicloud import commands
from tools.minicloud import state as state_mod

from tests.unit.minicloud import base


class CliTestCase(base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.out, self.err = self.capture()
        self.start = self.useFixture(fixtures.MockPatchObject(
            commands, 'cmd_start', return_value=0)).mock
        self.spawn = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.procs.spawn')).mock
        self.reexec = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.venv.reexec')).mock

    def assertBadInput(self, argv, *fragments):
        for stream in (self.out, self.err):
            stream.seek(0)
            stream.truncate()
        self.assertEqual(2, cli.main(argv))
        lines = self.err.getvalue().splitlines()
        self.assertEqual(1, len(lines), self.err.getvalue())
        self.assertTrue(lines[0].startswith('minicloud: '), lines)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        self.assertEqual('', self.out.getvalue())
        self.start.assert_not_called()
        self.spawn.assert_not_called()
        self.reexec.assert_not_called()
        return lines[0]

    def test_unknown_command(self):
        self.assertBadInput(['bogus'], "unknown command 'bogus'", 'start')

    def test_no_command(self):
        self.assertBadInput([], 'no command')

    def test_unknown_option(self):
        self.assertBadInput(['start', '--bogus'], '--bogus')
        self.assertBadInput(['--bogus'], '--bogus')

    def test_abbreviated_option_refused(self):
        self.assertBadInput(['start', '--wi', 'cinder-backup'], '--wi')

    def test_unknown_component(self):
        line = self.assertBadInput(['start', '--with', 'cinder-backup,x'])
        self.assertEqual("minicloud: unknown component 'x' (known: "
                         "cinder-backup, backup-flows)", line)

    def test_unknown_component_from_environment(self):
        self.useFixture(fixtures.EnvironmentVariable('MINICLOUD_WITH', 'ceph'))
        self.assertBadInput(['start'], "unknown component 'ceph'")

    def test_start_with_components(self):
        self.assertEqual(0, cli.main(['start', '--with', 'cinder-backup']))
        self.start.assert_called_once_with(
            self.s, ['start', '--with', 'cinder-backup'], ['cinder-backup'])

    def test_start_with_both_components(self):
        argv = ['start', '--with', 'cinder-backup,backup-flows']
        self.assertEqual(0, cli.main(argv))
        self.start.assert_called_once_with(
            self.s, argv, ['cinder-backup', 'backup-flows'])

    def test_start_components_default_from_environment(self):
        self.useFixture(fixtures.EnvironmentVariable('MINICLOUD_WITH',
                                                     'cinder-backup'))
        cli.main(['start'])
        self.assertEqual(['cinder-backup'], self.start.call_args[0][2])

    def test_start_with_empty_overrides_environment(self):
        self.useFixture(fixtures.EnvironmentVariable('MINICLOUD_WITH',
                                                     'cinder-backup'))
        cli.main(['start', '--with', ''])
        self.assertEqual([], self.start.call_args[0][2])

    def test_logs_unknown_service(self):
        self.assertBadInput(['logs', 'nova-bogus'],
                            "unknown service 'nova-bogus'", 'keystone')

    def test_logs_bad_arguments(self):
        self.assertBadInput(['logs'], 'service')
        self.assertBadInput(['logs', 'keystone', '-n', 'x'], "'x'")
        self.assertBadInput(['logs', 'keystone', '-n', '-1'], '-n')

    def test_restart_unknown_service(self):
        self.assertBadInput(['restart-service', 'nova-bogus'],
                            "unknown or stopped service 'nova-bogus'")
        self.assertBadInput(['restart-service'], 'service')

    def test_logs_last_lines(self):
        os.makedirs(self.s.log)
        with open(self.s.log_path('nova-compute'), 'w') as f:
            f.write(''.join('line %d\n' % i for i in range(500)))
        self.assertEqual(0, cli.main(['logs', 'nova-compute', '-n', '2']))
        self.assertEqual('line 498\nline 499\n', self.out.getvalue())
        self.out.seek(0)
        self.out.truncate()
        self.assertEqual(0, cli.main(['logs', 'nova-compute']))
        self.assertEqual(100, len(self.out.getvalue().splitlines()))

    def test_logs_known_but_not_written(self):
        self.assertEqual(1, cli.main(['logs', 'cinder-backup']))
        self.assertIn('no log for cinder-backup', self.err.getvalue())

    def test_help(self):
        self.assertEqual(0, cli.main(['--help']))
        self.assertIn('restart-service', self.out.getvalue())
        self.assertEqual(0, cli.main(['start', '-h']))
        self.assertEqual(0, cli.main(['help']))
        self.assertEqual('', self.err.getvalue())

    def test_env(self):
        self.assertEqual(0, cli.main(['env']))
        self.assertIn('export OS_CLIENT_CONFIG_FILE=%s/clouds.yaml\n'
                      % self.home, self.out.getvalue())
        self.assertIn('export MINICLOUD_HOME=%s\n' % self.home,
                      self.out.getvalue())

    def test_status_not_running(self):
        self.assertEqual(3, cli.main(['status']))
        self.assertIn('not running', self.out.getvalue())

    def test_status_lists_components(self):
        state_mod.save(self.s, {'services': {'cinder-backup': {
            'pid': None, 'port': None}}, 'ready': True,
            'components': ['cinder-backup']})
        self.assertEqual(1, cli.main(['status']))
        self.assertIn('minicloud: components: cinder-backup',
                      self.out.getvalue())
        self.assertIn('DEAD', self.out.getvalue())

    def test_status_aligns_long_service_names(self):
        self.useFixture(fixtures.MockPatch(
            'tools.minicloud.procs.sessions_pss', return_value={}))
        names = ('keystone', 'backup-flows-conductor-1')
        state_mod.save(self.s, {'services': {n: {'pid': None, 'port': None}
                                             for n in names},
                                'ready': True, 'components': ['backup-flows']})
        cli.main(['status'])
        lines = [line for line in self.out.getvalue().splitlines()
                 if not line.startswith('minicloud:')]
        self.assertEqual(2, len(lines))
        self.assertEqual({len('backup-flows-conductor-1')},
                         {line.index(' DEAD') for line in lines})

    def test_stop_records_no_components(self):
        state_mod.save(self.s, {'services': {}, 'ready': True,
                                'components': ['cinder-backup']})
        self.assertEqual(0, cli.main(['stop']))
        self.assertEqual([], state_mod.load(self.s)['components'])
        self.assertIn('stopped 0 services', self.out.getvalue())
