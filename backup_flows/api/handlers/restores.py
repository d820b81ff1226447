"""``/v1/restores``: restores of the project's backups onto new servers."""

import webob.exc

from backup_flows import exceptions
from backup_flows.api import errors
from backup_flows.api import microversion
from backup_flows.api import paging
from backup_flows.api import util
from backup_flows.api.schemas import restores as schema
from backup_flows.operations import catalog
from backup_flows.operations import service_jobs
from backup_flows.policies import restores as policies

FILTERS = ('backup_id', 'server_id', 'status')


@util.wsgify
@microversion.version_handler('1.0')
@util.require_content('application/json')
def create_restore(req):
    """POST /v1/restores: map the backup onto the cloud now, restore on a
    conductor."""
    context = req.environ['backup_flows.context']
    context.can(policies.CREATE)
    body = util.extract_json(req.body, schema.CREATE)['restore']
    user_auth = req.environ.get('keystone.token_auth')
    if user_auth is None:
        raise webob.exc.HTTPForbidden(
            'Restoring needs a Keystone token (a trust is created from '
            'it).', comment=errors.POLICY_FORBIDDEN)
    try:
        row = service_jobs.post_restore(
            context, user_auth, body['backup_id'], name=body.get('name'),
            flavor_id=body.get('flavor_id'), networks=body.get('networks'),
            availability_zone=body.get('availability_zone'),
            volume_type=body.get('volume_type'))
    except exceptions.CatalogEntryNotFound as exc:
        raise webob.exc.HTTPBadRequest(str(exc))
    except exceptions.InvalidInput as exc:
        # a flavor, network, zone or volume type the cloud does not have
        raise webob.exc.HTTPBadRequest(str(exc))
    return util.json_response(
        {'restore': catalog.show_restore(context, row['id'])}, status=202)


@util.wsgify
@microversion.version_handler('1.0')
def list_restores(req):
    """GET /v1/restores: oldest first, filtered and paged."""
    context = req.environ['backup_flows.context']
    all_projects = paging.bool_param(req, 'all_projects')
    context.can(policies.LIST_ALL_PROJECTS if all_projects
                else policies.LIST)
    filters, limit, marker = paging.params(req, FILTERS)
    items = catalog.list_restores(context, filters, limit, marker,
                                  all_projects=all_projects)
    return util.json_response(dict(
        {'restores': items}, **paging.links(req, 'restores', items, limit)))


@util.wsgify
@microversion.version_handler('1.0')
def show_restore(req):
    """GET /v1/restores/{restore_id}: ``server_id`` once available."""
    context = req.environ['backup_flows.context']
    restore = catalog.show_restore(
        context, util.wsgi_path_item(req.environ, 'restore_id'))
    context.can(policies.SHOW, {'project_id': restore['project_id'],
                                'user_id': restore['user_id']})
    return util.json_response({'restore': restore})
