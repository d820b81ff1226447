"""Rules of the restores API (``/v1/restores``).

Handlers pass the restore's project (and the user who started it) as the
target; create passes the project of the backup restored, list the project
of the request's token.
"""

from oslo_policy import policy

from backup_flows.policies import base

PREFIX = 'server-protection:restores:%s'
CREATE = PREFIX % 'create'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list:all_projects'
SHOW = PREFIX % 'show'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Restore a backup onto a new server.',
        operations=[{'method': 'POST', 'path': '/v1/restores'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='List the restores of the project.',
        operations=[{'method': 'GET', 'path': '/v1/restores'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST_ALL_PROJECTS,
        check_str=base.ADMIN,
        description='List the restores of every project (all_projects=1); '
                    'checked in addition to the list rule.',
        operations=[{'method': 'GET', 'path': '/v1/restores?all_projects=1'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='Show a restore.',
        operations=[{'method': 'GET', 'path': '/v1/restores/{id}'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    """Return the rules of the restores API."""
    return rules
