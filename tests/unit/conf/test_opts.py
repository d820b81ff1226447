from oslo_config import cfg
import testtools

from backup_flows import conf
from backup_flows.conf import opts


class ListOptsTestCase(testtools.TestCase):

    def test_every_registered_group_is_listed(self):
        listed = {getattr(group, 'name', group) for group, _ in
                  opts.list_opts()}
        self.assertIn('DEFAULT', listed)
        self.assertIn('engine', listed)

    def test_registration_is_complete_and_defaults_work(self):
        fresh = cfg.ConfigOpts()
        conf.register_opts(fresh)
        fresh([], project='backup-flows', default_config_files=[])
        self.assertTrue(fresh.state_path.endswith('backup-flows'))
        self.assertIsNone(fresh.engine.persistence_connection)
        self.assertEqual('serial', fresh.engine.engine)
