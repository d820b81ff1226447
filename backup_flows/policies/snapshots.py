"""Rules of the snapshot sets API (``/v1/snapshots``).

Handlers pass the snapshot set's project (and the user who took it) as the
target; create and list pass the project of the request's token.
"""

from oslo_policy import policy

from backup_flows.policies import base

PREFIX = 'server-protection:snapshots:%s'
CREATE = PREFIX % 'create'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list:all_projects'
SHOW = PREFIX % 'show'
DELETE = PREFIX % 'delete'
ROLLBACK = PREFIX % 'rollback'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Take a snapshot set of a server: an image of its root '
                    'disk and a snapshot of every attached volume.',
        operations=[{'method': 'POST', 'path': '/v1/snapshots'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='List the snapshot sets of the project.',
        operations=[{'method': 'GET', 'path': '/v1/snapshots'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST_ALL_PROJECTS,
        check_str=base.ADMIN,
        description='List the snapshot sets of every project '
                    '(all_projects=1); checked in addition to the list '
                    'rule.',
        operations=[{'method': 'GET', 'path': '/v1/snapshots?all_projects=1'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='Show a snapshot set.',
        operations=[{'method': 'GET', 'path': '/v1/snapshots/{id}'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Delete a snapshot set: its image and volume '
                    'snapshots.',
        operations=[{'method': 'DELETE', 'path': '/v1/snapshots/{id}'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=ROLLBACK,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Roll the server of a snapshot set back to it.',
        operations=[{'method': 'POST',
                     'path': '/v1/snapshots/{id}/rollback'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    """Return the rules of the snapshot sets API."""
    return rules
