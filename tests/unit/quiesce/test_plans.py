import testtools

from backup_flows import exceptions
from backup_flows import plugins


def server(**kw):
    facts = {'id': 'srv', 'status': 'ACTIVE', 'root': {'kind': 'image'},
             'volumes': [], 'guest_agent': True}
    facts.update(kw)
    return facts


class PlanTestCase(testtools.TestCase):

    def plan(self, mode, facts, require=False):
        return plugins.load_quiesce(mode).plan(facts, require)

    def test_levels(self):
        self.assertEqual('crash', self.plan('none', server())['consistency'])
        self.assertEqual('crash-consistent-set',
                         self.plan('pause', server())['consistency'])
        self.assertEqual('cold', self.plan('stop', server())['consistency'])
        self.assertEqual('filesystem',
                         self.plan('guest-agent', server())['consistency'])

    def test_stopped_server_is_cold_whatever_the_mode(self):
        for mode in ('none', 'pause', 'guest-agent'):
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
        plan = self.plan('guest-agent', server(volumes=[{'volume_id': 'v'}]))
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
