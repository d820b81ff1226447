"""Rules of the backups API (``/v1/backups``).

Handlers pass the backup's project (and the user who took it) as the
target; create and list pass the project of the request's token. The list
filters (``server_id``, ``status``) and paging need no rule of their own.
"""

from oslo_policy import policy

from backup_flows.policies import base

PREFIX = 'server-protection:backups:%s'
CREATE = PREFIX % 'create'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list:all_projects'
SHOW = PREFIX % 'show'
DELETE = PREFIX % 'delete'
VERIFY = PREFIX % 'verify'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Back a server up into the backup repository of the '
                    'project.',
        operations=[{'method': 'POST', 'path': '/v1/backups'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='List the backups of the project, filtered by server_id '
                    'or status, page by page.',
        operations=[{'method': 'GET', 'path': '/v1/backups'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST_ALL_PROJECTS,
        check_str=base.ADMIN,
        description='List the backups of every project (all_projects=1); '
                    'checked in addition to the list rule.',
        operations=[{'method': 'GET', 'path': '/v1/backups?all_projects=1'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='Show a backup.',
        operations=[{'method': 'GET', 'path': '/v1/backups/{id}'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Delete a backup from the repository.',
        operations=[{'method': 'DELETE', 'path': '/v1/backups/{id}'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=VERIFY,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Verify a backup: check (or re-read) its data in the '
                    'repository, optionally with a restore drill.',
        operations=[{'method': 'POST', 'path': '/v1/backups/{id}/verify'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    """Return the rules of the backups API."""
    return rules
