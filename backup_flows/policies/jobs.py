"""Rules of the jobs API (``/v1/jobs``).

Handlers pass the job's project (and the user who started it) as the
target; list passes the project of the request's token.
"""

from oslo_policy import policy

from backup_flows.policies import base

PREFIX = 'server-protection:jobs:%s'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list:all_projects'
SHOW = PREFIX % 'show'
ABORT = PREFIX % 'abort'

rules = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='List the jobs of the project.',
        operations=[{'method': 'GET', 'path': '/v1/jobs'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=LIST_ALL_PROJECTS,
        check_str=base.ADMIN,
        description='List the jobs of every project (all_projects=1); '
                    'checked in addition to the list rule.',
        operations=[{'method': 'GET', 'path': '/v1/jobs?all_projects=1'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.ADMIN_OR_PROJECT_READER_OR_SERVICE,
        description='Show a job and its progress.',
        operations=[{'method': 'GET', 'path': '/v1/jobs/{id}'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        name=ABORT,
        check_str=base.ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
        description='Abort a job: stop it and revert what it did.',
        operations=[{'method': 'POST', 'path': '/v1/jobs/{id}/abort'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    """Return the rules of the jobs API."""
    return rules
