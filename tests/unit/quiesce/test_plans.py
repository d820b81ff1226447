import testtools

from backup_flows import exceptions
from backup_flows import plugins

VOLUME = {'volume_id': 'v', 'device': '/dev/vdb'}


def server(**kw):
    facts = {'id': 'srv', 'status': 'ACTIVE', 'root': {'kind': 'image'},
             'volumes': [VOLUME], 'guest_agent': True,
             'require_quiesce': True}
    facts.update(kw)
    return facts


MODES = ('none', 'pause', 'guest-agent', 'stop')


class PlanTestCase(testtools.TestCase):

    def plan(self, mode, facts, require=False):
        return plugins.load_quiesce(mode).plan(facts, require)

    def test_levels(self):
        self.assertEqual('crash', self.plan('none', server())['consistency'])
        self.assertEqual('crash-consistent-set',
                         self.plan('pause', server(require_quiesce=False))[
                             'consistency'])
        self.assertEqual('cold', self.plan('stop', server())['consistency'])
        self.assertEqual('filesystem',
                         self.plan('guest-agent',
                                   server(volumes=[]))['consistency'])
        for mode in MODES:
            self.assertEqual('ACTIVE', self.plan(mode, server())['status'])

    def test_single_disk_is_not_paused(self):
        plan = self.plan('pause', server(volumes=[]))
        self.assertEqual('none', plan['mode'])
        self.assertEqual('crash-consistent-set', plan['consistency'])
        self.assertIsNone(plan['downgrade'])
        self.assertEqual('pause', self.plan(
            'pause', server(require_quiesce=False))['mode'])

    def test_pause_cannot_hold_a_server_nova_must_freeze(self):
        plan = self.plan('pause', server())
        self.assertEqual('none', plan['mode'])
        self.assertEqual('crash', plan['consistency'])
        self.assertIn('os_require_quiesce', plan['downgrade'])
        self.assertRaises(exceptions.ConsistencyNotReached, self.plan,
                          'pause', server(), True)

    def test_guest_agent_downgrade_never_pauses_what_nova_must_freeze(self):
        plan = self.plan('guest-agent', server())
        self.assertEqual(('none', 'crash'),
                         (plan['mode'], plan['consistency']))
        self.assertIn('Cinder', plan['downgrade'])

    def test_not_running_server_nova_must_freeze_is_refused(self):
        for mode in MODES:
            error = self.assertRaises(exceptions.InvalidServerState,
                                      self.plan, mode,
                                      server(status='PAUSED'))
            self.assertIn('os_require_quiesce', str(error))

    def test_not_running_server_is_captured_as_it_is(self):
        for status in ('PAUSED', 'SUSPENDED'):
            for mode in ('none', 'pause'):
                plan = self.plan(mode, server(status=status,
                                              require_quiesce=False))
                self.assertEqual('crash-consistent-set', plan['consistency'])
                self.assertIsNone(plan['downgrade'])
                self.assertEqual(status, plan['status'])
            for mode, requested in (('stop', 'cold'),
                                    ('guest-agent', 'filesystem')):
                plan = self.plan(mode, server(status=status, volumes=[],
                                              require_quiesce=False))
                self.assertEqual('crash-consistent-set', plan['consistency'],
                                 (status, mode))
                self.assertEqual(requested, plan['requested'])
                self.assertIn(status, plan['downgrade'])
                self.assertRaises(exceptions.ConsistencyNotReached,
                                  self.plan, mode,
                                  server(status=status,
                                         require_quiesce=False), True)

    def test_unconfirmed_freeze_is_not_filesystem(self):
        plan = self.plan('guest-agent', server(volumes=[],
                                               require_quiesce=False))
        self.assertEqual('crash-consistent-set', plan['consistency'])
        # one disk: the server keeps running; Nova freezes what it can
        self.assertEqual('none', plan['mode'])
        self.assertIn('os_require_quiesce', plan['downgrade'])
        self.assertRaises(exceptions.ConsistencyNotReached, self.plan,
                          'guest-agent', server(volumes=[],
                                                require_quiesce=False), True)

    def test_stopped_server_is_cold_whatever_the_mode(self):
        for mode in MODES:
            plan = self.plan(mode, server(status='SHUTOFF',
                                          guest_agent=False))
            self.assertEqual('cold', plan['consistency'])
            self.assertIsNone(plan['downgrade'])

    def test_guest_agent_without_agent_downgrades_explicitly(self):
        plan = self.plan('guest-agent', server(guest_agent=False))
        self.assertEqual('pause', plan['mode'])
        self.assertEqual('crash-consistent-set', plan['consistency'])
        self.assertEqual('filesystem', plan['requested'])
        self.assertIn('hw_qemu_guest_agent', plan['downgrade'])

    def test_guest_agent_with_volumes_downgrades(self):
        plan = self.plan('guest-agent', server(require_quiesce=False))
        self.assertEqual('pause', plan['mode'])
        self.assertIn('Cinder', plan['downgrade'])

    def test_guest_agent_required_fails_before_anything(self):
        self.assertRaises(exceptions.ConsistencyNotReached, self.plan,
                          'guest-agent', server(guest_agent=False), True)

    def test_tasks(self):
        pause = plugins.load_quiesce('pause')
        self.assertEqual(['pause-server'],
                         [t.name for t in pause.freeze_tasks()])
        self.assertEqual(['unpause-server'],
                         [t.name for t in pause.thaw_tasks()])
        self.assertEqual([], plugins.load_quiesce('none').freeze_tasks())

    def test_unknown_plugin_error_names_it_and_the_choices(self):
        error = self.assertRaises(exceptions.PluginError,
                                  plugins.load_quiesce, 'bogus')
        self.assertIn("'bogus'", str(error))
        self.assertIn('guest-agent, none, pause, stop', str(error))
