from backup_flows.policies import restores

from tests.unit import policies


class RestoresPolicyTestCase(policies.PolicyTestCase):

    def test_readers_list_and_show(self):
        self.assertAllowedExactly(policies.READERS,
                                  [restores.LIST, restores.SHOW])

    def test_members_services_and_admins_restore(self):
        self.assertAllowedExactly(policies.ACTORS, [restores.CREATE])

    def test_only_admins_list_all_projects(self):
        self.assertAllowedExactly(policies.ADMINS,
                                  [restores.LIST_ALL_PROJECTS])
