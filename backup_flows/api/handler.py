"""The route table of the API and the application dispatching on it.

:data:`ROUTE_DECLARATIONS` maps each path (a Routes template) to its HTTP
methods and their handlers (module-level functions in
``backup_flows.api.handlers``). :func:`make_map` turns it into a Routes
mapper that also answers 405, with an ``Allow`` header listing the
path's methods, for any other method on a known path; an unknown path is a
404. Both in the API's JSON error format.
"""

import routes
import webob.exc

from backup_flows.api import errors
from backup_flows.api import util
from backup_flows.api.handlers import backups
from backup_flows.api.handlers import jobs
from backup_flows.api.handlers import restores
from backup_flows.api.handlers import root

# Paths served without a token: the version document, so that a client
# discovers the versions before it authenticates. '' is the root when the
# API is mounted under a prefix (SCRIPT_NAME, e.g. /server-protection).
PUBLIC_PATHS = frozenset(('', '/'))

# Path parameters are plain ({job_id}), never regular expressions: a value
# that does not fit must reach its handler, whose 404 or 400 says why,
# instead of falling to the router's anonymous 404.
ROUTE_DECLARATIONS = {
    '/': {
        'GET': root.home,
    },
    '': {
        'GET': root.home,
    },
    '/v1/backups': {
        'GET': backups.list_backups,
        'POST': backups.create_backup,
    },
    '/v1/backups/{backup_id}': {
        'GET': backups.show_backup,
    },
    '/v1/restores': {
        'GET': restores.list_restores,
        'POST': restores.create_restore,
    },
    '/v1/restores/{restore_id}': {
        'GET': restores.show_restore,
    },
    '/v1/jobs': {
        'GET': jobs.list_jobs,
    },
    '/v1/jobs/{job_id}': {
        'GET': jobs.show_job,
    },
}


@util.wsgify
def handle_405(req):
    """Answer a known path asked with a method it does not have."""
    allowed = util.wsgi_path_item(req.environ, '_methods')
    raise webob.exc.HTTPMethodNotAllowed(
        'The method %s is not allowed on %s.' % (req.method, req.path_info),
        headers={'Allow': allowed})


def make_map(declarations):
    """Return a Routes mapper dispatching ``declarations``.

    After a path's method routes comes one catching every other method,
    which :func:`handle_405` answers.
    """
    mapper = routes.Mapper()
    for path, methods in declarations.items():
        for method, handler in methods.items():
            mapper.connect(path, action=handler,
                           conditions={'method': [method]})
        mapper.connect(path, action=handle_405,
                       _methods=', '.join(methods))
    return mapper


def _check_body_headers(req):
    # A body without a type cannot be parsed; refuse it before any handler
    # guesses.
    try:
        length = int(req.environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        raise webob.exc.HTTPBadRequest(
            'The Content-Length header must be an integer.')
    if length > 0 and not req.environ.get('CONTENT_TYPE'):
        raise webob.exc.HTTPBadRequest(
            'A request with a body needs a Content-Type header.',
            comment=errors.CONTENT_TYPE_MISSING)


class Handler:
    """The application under the middleware: routes a request.

    The route table is read when the application is built, so a test may
    patch :data:`ROUTE_DECLARATIONS` before it builds one.
    """

    def __init__(self):
        self._map = make_map(ROUTE_DECLARATIONS)

    @util.wsgify
    def __call__(self, req):
        _check_body_headers(req)
        match = self._map.match(environ=req.environ)
        if match is None:
            raise webob.exc.HTTPNotFound(
                'The resource %s does not exist.' % req.path_info,
                comment=errors.ROUTE_NOT_FOUND)
        handler = match.pop('action')
        req.environ['wsgiorg.routing_args'] = ((), match)
        return handler
