from backup_flows.policies import snapshots

from tests.unit import policies


class SnapshotsPolicyTestCase(policies.PolicyTestCase):

    def test_readers_list_and_show(self):
        self.assertAllowedExactly(policies.READERS,
                                  [snapshots.LIST, snapshots.SHOW])

    def test_members_services_and_admins_act(self):
        self.assertAllowedExactly(
            policies.ACTORS,
            [snapshots.CREATE, snapshots.DELETE, snapshots.ROLLBACK])

    def test_only_admins_list_all_projects(self):
        self.assertAllowedExactly(policies.ADMINS,
                                  [snapshots.LIST_ALL_PROJECTS])
