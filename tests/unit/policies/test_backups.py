from backup_flows.policies import backups

from tests.unit import policies


class BackupsPolicyTestCase(policies.PolicyTestCase):

    def test_readers_list_and_show(self):
        self.assertAllowedExactly(policies.READERS,
                                  [backups.LIST, backups.SHOW])

    def test_members_services_and_admins_act(self):
        self.assertAllowedExactly(
            policies.ACTORS,
            [backups.CREATE, backups.DELETE, backups.VERIFY])

    def test_only_admins_list_all_projects(self):
        self.assertAllowedExactly(policies.ADMINS,
                                  [backups.LIST_ALL_PROJECTS])
