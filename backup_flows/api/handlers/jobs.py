"""``/v1/jobs``: the jobs the API started for the caller's project."""

from backup_flows.api import microversion
from backup_flows.api import paging
from backup_flows.api import util
from backup_flows.operations import catalog
from backup_flows.policies import jobs as policies

FILTERS = ('flow', 'state', 'resource_type', 'resource_id')


@util.wsgify
@microversion.version_handler('1.0')
def list_jobs(req):
    """GET /v1/jobs: oldest first, filtered and paged."""
    context = req.environ['backup_flows.context']
    all_projects = paging.bool_param(req, 'all_projects')
    context.can(policies.LIST_ALL_PROJECTS if all_projects
                else policies.LIST)
    filters, limit, marker = paging.params(req, FILTERS)
    items = catalog.list_jobs(context, filters, limit, marker,
                              all_projects=all_projects)
    return util.json_response(dict(
        {'jobs': items}, **paging.links(req, 'jobs', items, limit)))


@util.wsgify
@microversion.version_handler('1.0')
def show_job(req):
    """GET /v1/jobs/{job_id}: with its live state and tasks."""
    context = req.environ['backup_flows.context']
    job = catalog.show_job(context, util.wsgi_path_item(req.environ,
                                                        'job_id'))
    context.can(policies.SHOW, {'project_id': job['project_id'],
                                'user_id': job['user_id']})
    return util.json_response({'job': job})
