import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_policy import generator
from oslo_policy import policy as oslo_policy
import testtools

from backup_flows import exceptions
from backup_flows import policies
from backup_flows import policy
from backup_flows.policies import backups
from backup_flows.policies import jobs
from backup_flows.policies import restores
from backup_flows.policies import snapshots

from tests.unit import policies as policy_test

ETC = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                   'backup-flows')
RULE_NAMES = sorted(rule.name for rule in policies.list_rules())


class EnforcerTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = policy_test.fresh_conf(self)
        policy.reset()
        self.addCleanup(policy.reset)

    def test_init_registers_every_rule_once(self):
        enforcer = policy.init(self.conf)
        self.assertEqual(RULE_NAMES, sorted(enforcer.registered_rules))
        self.assertIs(enforcer, policy.init(self.conf))

    def test_reset_forgets_the_enforcer(self):
        enforcer = policy.init(self.conf)
        policy.reset()
        self.assertIsNot(enforcer, policy.init(self.conf))

    def test_new_defaults_and_policy_yaml_by_default(self):
        policy.init(self.conf)
        self.assertTrue(self.conf.oslo_policy.enforce_new_defaults)
        self.assertEqual('policy.yaml', self.conf.oslo_policy.policy_file)

    def test_rules_refer_only_to_defined_rules(self):
        self.assertTrue(
            policy.init(self.conf).check_rules(raise_on_violation=True))

    def test_refusal_is_a_usage_error_the_api_answers_403(self):
        policy.init(self.conf)
        error = self.assertRaises(
            exceptions.PolicyNotAuthorized, policy.authorize,
            policy_test.make_context('project_reader'), backups.CREATE,
            policy_test.TARGET)
        self.assertEqual('Policy does not allow '
                         'server-protection:backups:create to be performed.',
                         str(error))
        self.assertEqual(403, error.http_status)
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)

    def test_wrong_scope_is_refused_as_a_policy_error(self):
        policy.init(self.conf)
        for persona in ('system_admin', 'domain_admin'):
            self.assertRaises(
                exceptions.PolicyNotAuthorized, policy.authorize,
                policy_test.make_context(persona), jobs.LIST,
                policy_test.TARGET)

    def test_do_raise_false_returns_false_when_refused(self):
        policy.init(self.conf)
        for persona in ('project_reader', 'system_admin'):
            self.assertIs(False, policy.authorize(
                policy_test.make_context(persona), backups.CREATE,
                policy_test.TARGET, do_raise=False))
        self.assertTrue(policy.authorize(
            policy_test.make_context('project_member'), backups.CREATE,
            policy_test.TARGET, do_raise=False))

    def test_unknown_action_is_a_programming_error(self):
        policy.init(self.conf)
        self.assertRaises(
            oslo_policy.PolicyNotRegistered, policy.authorize,
            policy_test.make_context('project_admin'),
            'server-protection:backups:frobnicate', policy_test.TARGET)

    def test_authorize_uses_the_global_conf_without_init(self):
        self.useFixture(config_fixture.Config(cfg.CONF))
        cfg.CONF([], project='backup-flows', default_config_files=[],
                 default_config_dirs=[])
        self.assertTrue(policy.authorize(
            policy_test.make_context('project_member'), snapshots.CREATE,
            policy_test.TARGET))
        self.assertIs(cfg.CONF, policy.init(self.conf).conf)


class PolicyFileTestCase(testtools.TestCase):
    """The operator's policy file overrides the defaults in code."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        policy.reset()
        self.addCleanup(policy.reset)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def init_with_config_file(self, text):
        conf_file = self.write('backup-flows.conf', text)
        policy.init(policy_test.fresh_conf(self, ['--config-file',
                                                   conf_file]))

    def allowed(self, action):
        allowed = set()
        for persona in policy_test.PERSONAS:
            if policy.authorize(policy_test.make_context(persona), action,
                                policy_test.TARGET, do_raise=False):
                allowed.add(persona)
        return allowed

    def test_policy_yaml_next_to_the_config_file_overrides_a_rule(self):
        self.write('policy.yaml',
                   '"server-protection:backups:create": "rule:admin_api"\n')
        self.init_with_config_file('[DEFAULT]\n')
        self.assertEqual(policy_test.ADMINS, self.allowed(backups.CREATE))
        self.assertEqual(policy_test.ACTORS, self.allowed(backups.DELETE))

    def test_policy_file_option_overrides_a_base_rule(self):
        policy_file = self.write('custom-policy.yaml',
                                 '"project_reader_api": "!"\n')
        self.init_with_config_file(
            f'[oslo_policy]\npolicy_file = {policy_file}\n')
        for action in (snapshots.LIST, backups.SHOW, restores.LIST,
                       jobs.SHOW):
            self.assertEqual(policy_test.ADMINS | {'project_service'},
                             self.allowed(action), action)
        self.assertEqual(policy_test.ACTORS, self.allowed(snapshots.CREATE))


class GeneratorTestCase(testtools.TestCase):
    """What the oslopolicy-* tools find through the entry points."""

    def setUp(self):
        super().setUp()
        policy.reset()
        self.addCleanup(policy.reset)

    def test_get_enforcer_knows_every_rule(self):
        self.useFixture(config_fixture.Config(cfg.CONF))
        for finder in ('find_config_files', 'find_config_dirs'):
            self.useFixture(fixtures.MockPatch(
                f'oslo_config.cfg.{finder}', return_value=[]))
        enforcer = policy.get_enforcer()
        self.assertIs(cfg.CONF, enforcer.conf)
        self.assertEqual(RULE_NAMES, sorted(enforcer.registered_rules))

    def test_sample_generator_config_writes_every_rule(self):
        namespaces = self.useFixture(fixtures.MockPatch(
            'oslo_policy.generator.get_policies_dict',
            return_value={'backup_flows': policies.list_rules()})).mock
        out = os.path.join(self.useFixture(fixtures.TempDir()).path,
                           'policy.yaml.sample')
        generator.generate_sample(
            args=['--config-file',
                  os.path.join(ETC, 'backup-flows-policy-generator.conf'),
                  '--output-file', out],
            conf=cfg.ConfigOpts())
        namespaces.assert_called_once_with(['backup_flows'])
        with open(out) as f:
            sample = f.read()
        for name in RULE_NAMES:
            self.assertIn(f'#"{name}": ', sample)
