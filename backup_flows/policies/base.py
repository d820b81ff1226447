"""Check strings every backup-flows rule is built from.

Keystone's default roles only, no custom role: ``reader`` and ``member`` of
the project that owns the resource, ``admin`` in any project, and
``service`` (the role Keystone gives the users of other OpenStack services)
in the project of its token. Keystone's bootstrap makes ``admin`` imply
``member`` and ``member`` imply ``reader``, so a member's token also carries
``reader``; ``service`` implies nothing, so it is named in every rule.

Every rule is project scoped: a system or domain scoped token is refused.
The resource rules point at the combined rules below (``rule:...``), so an
operator who redefines one of these in the policy file changes every rule
built on it.
"""

from oslo_policy import policy

ADMIN = 'rule:admin_api'
PROJECT_READER = 'rule:project_reader_api'
PROJECT_MEMBER = 'rule:project_member_api'
PROJECT_SERVICE = 'rule:project_service_api'
ADMIN_OR_PROJECT_READER_OR_SERVICE = (
    'rule:admin_or_project_reader_or_service_api')
ADMIN_OR_PROJECT_MEMBER_OR_SERVICE = (
    'rule:admin_or_project_member_or_service_api')

SCOPE_TYPES = ['project']

rules = [
    policy.RuleDefault(
        name='admin_api',
        check_str='role:admin',
        description='An administrator, in any project.',
        scope_types=SCOPE_TYPES),
    policy.RuleDefault(
        name='project_reader_api',
        check_str='role:reader and project_id:%(project_id)s',
        description='A reader of the project that owns the resource.',
        scope_types=SCOPE_TYPES),
    policy.RuleDefault(
        name='project_member_api',
        check_str='role:member and project_id:%(project_id)s',
        description='A member of the project that owns the resource.',
        scope_types=SCOPE_TYPES),
    policy.RuleDefault(
        name='project_service_api',
        check_str='role:service and project_id:%(project_id)s',
        description='Another OpenStack service, with a token scoped to the '
                    'project that owns the resource.',
        scope_types=SCOPE_TYPES),
    policy.RuleDefault(
        name='admin_or_project_reader_or_service_api',
        check_str=f'{ADMIN} or {PROJECT_READER} or {PROJECT_SERVICE}',
        description='Default rule of the APIs that only look: list and '
                    'show.',
        scope_types=SCOPE_TYPES),
    policy.RuleDefault(
        name='admin_or_project_member_or_service_api',
        check_str=f'{ADMIN} or {PROJECT_MEMBER} or {PROJECT_SERVICE}',
        description='Default rule of the APIs that act: create, delete, '
                    'rollback, verify, abort.',
        scope_types=SCOPE_TYPES),
]


def list_rules():
    """Return the base rules the resource rules refer to."""
    return rules
