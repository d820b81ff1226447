"""``/v1/backups``: server backups of the caller's project."""

import webob.exc

from backup_flows import exceptions
from backup_flows.api import errors
from backup_flows.api import microversion
from backup_flows.api import paging
from backup_flows.api import util
from backup_flows.api.schemas import backups as schema
from backup_flows.operations import catalog
from backup_flows.operations import service_jobs
from backup_flows.policies import backups as policies

FILTERS = ('server_id', 'status')


def _context(req):
    return req.environ['backup_flows.context']


@util.wsgify
@microversion.version_handler('1.0')
@util.require_content('application/json')
def create_backup(req):
    """POST /v1/backups: plan the backup now, run it on a conductor."""
    context = _context(req)
    context.can(policies.CREATE)
    body = util.extract_json(req.body, schema.create(
        service_jobs.quiesce_modes()))['backup']
    user_auth = req.environ.get('keystone.token_auth')
    if user_auth is None:
        raise webob.exc.HTTPForbidden(
            'Creating a backup needs a Keystone token (a trust is created '
            'from it).', comment=errors.POLICY_FORBIDDEN)
    try:
        row = service_jobs.post_backup(
            context, user_auth, body['server_id'],
            quiesce=body.get('quiesce'), tags=body.get('tags', ()))
    except (exceptions.ServerNotFound, exceptions.InvalidServerState) as exc:
        # the body names a server this project cannot back up: nothing
        # was recorded or posted
        raise webob.exc.HTTPBadRequest(str(exc))
    return util.json_response({'backup': catalog.show_backup(context,
                                                             row['id'])},
                              status=202)


@util.wsgify
@microversion.version_handler('1.0')
def list_backups(req):
    """GET /v1/backups: oldest first, filtered and paged."""
    context = _context(req)
    all_projects = paging.bool_param(req, 'all_projects')
    context.can(policies.LIST_ALL_PROJECTS if all_projects
                else policies.LIST)
    filters, limit, marker = paging.params(req, FILTERS)
    items = catalog.list_backups(context, filters, limit, marker,
                                 all_projects=all_projects)
    return util.json_response(dict(
        {'backups': items}, **paging.links(req, 'backups', items, limit)))


@util.wsgify
@microversion.version_handler('1.0')
def show_backup(req):
    """GET /v1/backups/{backup_id}."""
    context = _context(req)
    backup = catalog.show_backup(context,
                                 util.wsgi_path_item(req.environ,
                                                     'backup_id'))
    context.can(policies.SHOW, {'project_id': backup['project_id'],
                                'user_id': backup['user_id']})
    return util.json_response({'backup': backup})
