"""The component registry, the service table and what start does with them."""

from unittest import mock

import fixtures

from tools.minicloud import commands
from tools.minicloud import readiness
from tools.minicloud import services
from tools.minicloud import start
from tools.minicloud import state as state_mod
from tools.minicloud import util
from tools.minicloud.components import REGISTRY
from tools.minicloud.components import base as comp_base
from tools.minicloud.components import cinder_backup
from tools.minicloud.components import load
from tools.minicloud.components import parse

from tests.unit.minicloud import base


class RegistryTestCase(base.MiniCloudTestCase):

    def test_known(self):
        self.assertEqual(['cinder-backup', 'backup-flows'], list(REGISTRY))
        for name, cls in REGISTRY.items():
            self.assertTrue(issubclass(cls, comp_base.Component))
            self.assertEqual(name, cls.name)
            comp = cls()
            self.assertEqual(set(cls.service_names),
                             set(comp.services(self.s)))

    def test_parse(self):
        self.assertEqual([], parse(''))
        self.assertEqual([], parse(None))
        self.assertEqual(['cinder-backup'],
                         parse(' cinder-backup,,cinder-backup '))
        self.assertEqual(['backup-flows', 'cinder-backup'],
                         parse('backup-flows,cinder-backup'))
        e = self.assertRaises(util.UsageError, parse, 'cinder-backup,heat')
        self.assertEqual("unknown component 'heat' (known: cinder-backup, "
                         "backup-flows)", str(e))

    def test_cinder_backup_excluded_by_default(self):
        core = services.table(self.s)
        self.assertNotIn('cinder-backup', core)
        self.assertIn('cinder-volume', core)
        table = services.table(self.s, load(['cinder-backup']))
        self.assertEqual(set(core) | {'cinder-backup'}, set(table))
        backup = table['cinder-backup']
        self.assertEqual(3.0, backup.kill_grace)
        self.assertEqual(['--config-file', self.s.etc + '/cinder/cinder.conf'],
                         backup.cmd[1:])
        self.assertEqual(['cinder-scheduler', 'cinder-volume'],
                         readiness.group(core, services.BLOCK_STORAGE))
        self.assertEqual(['cinder-backup', 'cinder-scheduler',
                          'cinder-volume'],
                         readiness.group(table, services.BLOCK_STORAGE))

    def test_core_ports_and_checks(self):
        table = services.core(self.s)
        self.assertEqual(10, len([e for e in table.values() if e.port]))
        self.assertEqual('/healthcheck', table['swift-proxy'].http_path)
        self.assertEqual('/recon/diskusage', table['swift-object'].http_path)
        self.assertEqual(services.COMPUTE, table['nova-compute'].restart_wait)
        self.assertEqual('keystone', next(iter(table)))


class ReadyWaitsTestCase(base.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.compute = self.useFixture(fixtures.MockPatchObject(
            readiness, 'wait_compute')).mock
        self.block = self.useFixture(fixtures.MockPatchObject(
            readiness, 'wait_block_storage')).mock
        self.state = {'secrets': {'admin': 'pw'}}

    def test_core_needs_volume_and_scheduler_only(self):
        util.parallel(start.ready_waits(self.s, self.state, []))
        self.compute.assert_called_once()
        self.block.assert_called_once_with(
            self.s, self.state['secrets'],
            ['cinder-scheduler', 'cinder-volume'])

    def test_cinder_backup_waits_for_its_service(self):
        util.parallel(start.ready_waits(self.s, self.state,
                                        [cinder_backup.CinderBackup()]))
        binaries = sorted(b for call in self.block.call_args_list
                          for b in call[0][2])
        self.assertEqual(['cinder-backup', 'cinder-scheduler',
                          'cinder-volume'], binaries)


class StartChoiceTestCase(base.MiniCloudTestCase):
    """cmd_start: no-op, add components or fresh start."""

    def setUp(self):
        super().setUp()
        self.capture()
        self.fresh = self.useFixture(fixtures.MockPatchObject(
            start, 'fresh_start')).mock
        self.add = self.useFixture(fixtures.MockPatchObject(
            start, 'add_components')).mock
        self.useFixture(fixtures.MockPatch('tools.minicloud.venv.in_venv',
                                           return_value=True))

    def running(self, components):
        svcs = {'keystone': {}}
        state = {'services': svcs, 'ready': True, 'components': components}
        self.useFixture(fixtures.MockPatch(
            'tools.minicloud.state.running', return_value=(state, svcs)))
        return state

    def test_running_ready_is_noop(self):
        self.running(['cinder-backup'])
        self.assertEqual(0, commands.cmd_start(self.s, ['start'], []))
        self.assertEqual(0, commands.cmd_start(
            self.s, ['start'], ['cinder-backup']))
        self.fresh.assert_not_called()
        self.add.assert_not_called()

    def test_running_adds_missing_component(self):
        state = self.running([])
        commands.cmd_start(self.s, ['start'], ['cinder-backup'])
        self.add.assert_called_once_with(self.s, state, ['cinder-backup'],
                                         mock.ANY)
        self.fresh.assert_not_called()

    def test_stopped_starts_fresh(self):
        commands.cmd_start(self.s, ['start'], ['cinder-backup'])
        self.fresh.assert_called_once_with(self.s, ['cinder-backup'],
                                           mock.ANY)
        self.add.assert_not_called()


class AddComponentsTestCase(base.MiniCloudTestCase):
    """start --with on a running cloud: configure, restart, start, wait."""

    def setUp(self):
        super().setUp()
        self.capture()
        self.spawn = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.procs.spawn',
            side_effect=lambda s, name, *a: {'pid': 1, 'name': name})).mock
        self.kill = self.useFixture(fixtures.MockPatch(
            'tools.minicloud.procs.kill')).mock
        self.restart = self.useFixture(fixtures.MockPatchObject(
            start, 'restart')).mock
        self.wait = self.useFixture(fixtures.MockPatchObject(
            readiness, 'wait_block_storage')).mock
        self.configure = self.useFixture(fixtures.MockPatchObject(
            cinder_backup.CinderBackup, 'configure',
            return_value=['cinder-api', 'not-running'])).mock
        self.state = {'services': {'keystone': {}, 'cinder-api': {}},
                      'ready': True, 'secrets': {'admin': 'pw'},
                      'components': []}

    def test_adds_and_records(self):
        start.add_components(self.s, self.state, ['cinder-backup'],
                             util.Phases())
        self.configure.assert_called_once()
        self.assertEqual(['cinder-api'],
                         [c[0][3] for c in self.restart.call_args_list])
        self.assertEqual(['cinder-backup'],
                         [c[0][1] for c in self.spawn.call_args_list])
        self.wait.assert_called_once_with(self.s, self.state['secrets'],
                                          ['cinder-backup'])
        self.assertEqual(['cinder-backup'], self.state['components'])
        self.assertEqual(['cinder-backup'],
                         state_mod.load(self.s)['components'])

    def test_failure_stops_only_the_new_services(self):
        self.wait.side_effect = util.Failure('not up')
        self.assertRaises(util.ComponentFailure, start.add_components,
                          self.s, self.state, ['cinder-backup'],
                          util.Phases())
        self.assertEqual([{'pid': 1, 'name': 'cinder-backup'}],
                         [c[0][0] for c in self.kill.call_args_list])
        self.assertEqual({'keystone', 'cinder-api'},
                         set(self.state['services']))
        self.assertEqual([], self.state['components'])
