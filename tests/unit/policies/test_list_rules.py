from oslo_policy import policy as oslo_policy
import testtools

from backup_flows import policies

# The API contract: one rule per operation.
OPERATIONS = {
    'server-protection:snapshots:create': ('POST', '/v1/snapshots'),
    'server-protection:snapshots:list': ('GET', '/v1/snapshots'),
    'server-protection:snapshots:list:all_projects': (
        'GET', '/v1/snapshots?all_projects=1'),
    'server-protection:snapshots:show': ('GET', '/v1/snapshots/{id}'),
    'server-protection:snapshots:delete': ('DELETE', '/v1/snapshots/{id}'),
    'server-protection:snapshots:rollback': (
        'POST', '/v1/snapshots/{id}/rollback'),
    'server-protection:backups:create': ('POST', '/v1/backups'),
    'server-protection:backups:list': ('GET', '/v1/backups'),
    'server-protection:backups:list:all_projects': (
        'GET', '/v1/backups?all_projects=1'),
    'server-protection:backups:show': ('GET', '/v1/backups/{id}'),
    'server-protection:backups:delete': ('DELETE', '/v1/backups/{id}'),
    'server-protection:backups:verify': ('POST', '/v1/backups/{id}/verify'),
    'server-protection:restores:create': ('POST', '/v1/restores'),
    'server-protection:restores:list': ('GET', '/v1/restores'),
    'server-protection:restores:list:all_projects': (
        'GET', '/v1/restores?all_projects=1'),
    'server-protection:restores:show': ('GET', '/v1/restores/{id}'),
    'server-protection:jobs:list': ('GET', '/v1/jobs'),
    'server-protection:jobs:list:all_projects': (
        'GET', '/v1/jobs?all_projects=1'),
    'server-protection:jobs:show': ('GET', '/v1/jobs/{id}'),
    'server-protection:jobs:abort': ('POST', '/v1/jobs/{id}/abort'),
}
BASE_RULES = {
    'admin_api', 'project_reader_api', 'project_member_api',
    'project_service_api', 'admin_or_project_reader_or_service_api',
    'admin_or_project_member_or_service_api',
}


class ListRulesTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.rules = policies.list_rules()

    def documented(self):
        return [rule for rule in self.rules
                if isinstance(rule, oslo_policy.DocumentedRuleDefault)]

    def test_names_are_unique(self):
        names = [rule.name for rule in self.rules]
        self.assertEqual(len(names), len(set(names)))

    def test_one_documented_rule_per_operation(self):
        operations = {
            rule.name: tuple((op['method'], op['path'])
                             for op in rule.operations)
            for rule in self.documented()}
        self.assertEqual({name: (op,) for name, op in OPERATIONS.items()},
                         operations)

    def test_every_other_rule_is_a_base_rule(self):
        documented = {rule.name for rule in self.documented()}
        others = {rule.name for rule in self.rules} - documented
        self.assertEqual(BASE_RULES, others)

    def test_every_rule_is_described_and_project_scoped(self):
        for rule in self.rules:
            self.assertTrue(rule.description, rule.name)
            self.assertEqual(['project'], rule.scope_types, rule.name)

