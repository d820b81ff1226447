"""Shared set-up of the policy tests.

Every rule is checked through a real oslo.policy enforcer for the people
below, with tokens scoped and filled as Keystone issues them: its bootstrap
makes ``admin`` imply ``member`` and ``member`` imply ``reader``; ``service``
implies nothing. The resource always belongs to ``PROJECT`` and to a user
who is none of them.
"""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_context import context
import testtools

from backup_flows import exceptions
from backup_flows import policy

PROJECT = 'project-a'
OTHER_PROJECT = 'project-b'
TARGET = {'project_id': PROJECT, 'user_id': 'owner'}

_ADMIN_ROLES = ['admin', 'member', 'reader']
_MEMBER_ROLES = ['member', 'reader']

PERSONAS = {
    'project_admin': {'project_id': PROJECT, 'roles': _ADMIN_ROLES},
    'project_member': {'project_id': PROJECT, 'roles': _MEMBER_ROLES},
    'project_reader': {'project_id': PROJECT, 'roles': ['reader']},
    'project_service': {'project_id': PROJECT, 'roles': ['service']},
    'project_no_role': {'project_id': PROJECT, 'roles': []},
    'other_project_admin': {'project_id': OTHER_PROJECT,
                            'roles': _ADMIN_ROLES},
    'other_project_member': {'project_id': OTHER_PROJECT,
                             'roles': _MEMBER_ROLES},
    'other_project_reader': {'project_id': OTHER_PROJECT,
                             'roles': ['reader']},
    'other_project_service': {'project_id': OTHER_PROJECT,
                              'roles': ['service']},
    'system_admin': {'system_scope': 'all', 'roles': _ADMIN_ROLES},
    'domain_admin': {'domain_id': 'default', 'roles': _ADMIN_ROLES},
}

ADMINS = frozenset({'project_admin', 'other_project_admin'})
ACTORS = ADMINS | {'project_member', 'project_service'}
READERS = ACTORS | {'project_reader'}


def make_context(persona):
    """Return the RequestContext of one of ``PERSONAS``."""
    return context.RequestContext(user_id=persona, **PERSONAS[persona])


def fresh_conf(test, args=()):
    """Return a parsed ConfigOpts reading no file of this host."""
    conf = cfg.ConfigOpts()
    test.useFixture(config_fixture.Config(conf))
    conf(list(args), project='backup-flows', default_config_files=[],
         default_config_dirs=[])
    return conf


class PolicyTestCase(testtools.TestCase):
    """Builds the enforcer from the defaults in code, reset afterwards."""

    def setUp(self):
        super().setUp()
        self.conf = fresh_conf(self)
        policy.reset()
        self.addCleanup(policy.reset)
        policy.init(self.conf)

    def allowed(self, action, target=TARGET):
        """Return the names of the personas ``action`` is allowed for."""
        allowed = set()
        for persona in PERSONAS:
            try:
                policy.authorize(make_context(persona), action, target)
            except exceptions.PolicyNotAuthorized:
                continue
            allowed.add(persona)
        return allowed

    def assertAllowedExactly(self, personas, actions):
        """Check that each of ``actions`` is allowed for ``personas`` only."""
        for action in actions:
            self.assertEqual(sorted(personas), sorted(self.allowed(action)),
                             action)
