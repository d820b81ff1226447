from backup_flows.policies import jobs

from tests.unit import policies


class JobsPolicyTestCase(policies.PolicyTestCase):

    def test_readers_list_and_show(self):
        self.assertAllowedExactly(policies.READERS, [jobs.LIST, jobs.SHOW])

    def test_members_services_and_admins_abort(self):
        self.assertAllowedExactly(policies.ACTORS, [jobs.ABORT])

    def test_only_admins_list_all_projects(self):
        self.assertAllowedExactly(policies.ADMINS, [jobs.LIST_ALL_PROJECTS])
