"""Assembly of the API: configuration, then the middleware stack, in code.

No paste file: :func:`loadapp` builds the stack from the service's
ConfigOpts, so operators configure every layer in the one config file
(``[api]``, ``[keystone_authtoken]``, ``[cors]``, ``[healthcheck]``,
``[oslo_middleware]``). :func:`init_application` is what
``backup_flows.api.wsgi`` runs in each WSGI worker: it finds that file
through the environment.
"""

import logging as py_logging
import os

from keystonemiddleware import auth_token
from oslo_log import log as logging
from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit
from oslo_middleware.healthcheck import opts as healthcheck_opts
import webob
import webob.dec
import webob.exc

from backup_flows import conf as bf_conf
from backup_flows import policy
from backup_flows.api import context
from backup_flows.api import errors
from backup_flows.api import handler
from backup_flows.api import microversion

LOG = logging.getLogger(__name__)

CONFIG_FILE = 'backup-flows.conf'
CONFIG_FILE_ENV = 'BACKUP_FLOWS_CONFIG_FILE'
CONFIG_DIR_ENV = 'OS_BACKUP_FLOWS_CONFIG_DIR'

HEALTHCHECK_PATH = '/healthcheck'

# What a browser client may send and read across origins once an operator
# sets [cors] allowed_origin (oslo.middleware's defaults know none of it).
CORS_DEFAULTS = {
    'allow_headers': ['X-Auth-Token', 'X-OpenStack-Request-Id',
                      'OpenStack-API-Version', 'Content-Type'],
    'expose_headers': ['X-OpenStack-Request-Id', 'OpenStack-API-Version'],
    'allow_methods': ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'],
}


def register_opts(conf):
    """Register the middleware's options on ``conf``, with our CORS defaults.

    Each middleware would register its own when built; registering them
    first lets our defaults be set, and every value be logged at start-up.
    ``[keystone_authtoken]`` gets the options of the auth plugin its
    ``auth_type`` names when auth_token is built.
    """
    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    conf.register_opts(cors.CORS_OPTS, group='cors')
    for name, value in CORS_DEFAULTS.items():
        conf.set_default(name, value, group='cors')
    conf.register_opts(healthcheck_opts.HEALTHCHECK_OPTS, group='healthcheck')
    conf.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
    conf.register_opts(sizelimit.OPTS, group='oslo_middleware')


class KeystoneAuth(auth_token.AuthProtocol):
    """keystonemiddleware auth_token, configured by ``[keystone_authtoken]``.

    It lets the public paths (the version document) through untouched, as
    Placement's does, and answers its refusals in the API's error format.
    """

    def __init__(self, application, conf):
        self._application = application
        super().__init__(application, {'oslo_config_config': conf})

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '') in handler.PUBLIC_PATHS:
            return self._application(environ, start_response)
        return super().__call__(environ, start_response)

    def process_request(self, request):
        try:
            return super().process_request(request)
        except webob.exc.HTTPError as exc:
            # 401 (no or bad token) or 503 (Keystone unreachable).
            detail = errors.AUTH_REQUIRED_DETAIL if exc.code == 401 else None
            return errors.http_error_response(exc, request.environ, detail)


class NoAuthMiddleware:
    """FOR TESTS ONLY (``[api] auth_strategy = noauth2``): no credential check.

    It believes whoever the ``X-Auth-Token`` header names and sets the
    headers auth_token would: ``admin`` is user and project ``admin`` with
    roles admin, member, reader; ``USER:PROJECT`` is that user in that
    project with roles member, reader. An ``X-Roles`` header replaces the
    roles (list them flattened, as Keystone expands implied roles). No
    token: 401, except on the public paths.
    """

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info in handler.PUBLIC_PATHS:
            return self.application
        token = req.headers.get('X-Auth-Token')
        if not token:
            return errors.error_response(
                401, errors.AUTH_REQUIRED_DETAIL, req.environ)
        user_id, _sep, project_id = token.partition(':')
        if 'X-Roles' not in req.headers:
            req.headers['X-Roles'] = ('admin,member,reader'
                                      if user_id == 'admin'
                                      else 'member,reader')
        req.headers['X-User-Id'] = user_id
        req.headers['X-Project-Id'] = project_id or user_id
        req.headers['X-Identity-Status'] = 'Confirmed'
        return self.application


class BodySizeLimit:
    """Refuse (413) a body over ``[oslo_middleware] max_request_body_size``.

    oslo.middleware's RequestBodySizeLimiter does the same, but answers in
    webob's HTML/plain format; this reuses its option and, for bodies of
    unknown length (chunked), its LimitingReader, whose error reaches the
    reading handler and leaves it in the API's format.
    """

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf

    def __call__(self, environ, start_response):
        limit = self.conf.oslo_middleware.max_request_body_size
        req = webob.Request(environ)
        if req.content_length is None:
            req.body_file = sizelimit.LimitingReader(req.body_file, limit)
        elif req.content_length > limit:
            response = errors.error_response(
                413, 'The request body is larger than %d bytes.' % limit,
                environ)
            return response(environ, start_response)
        return self.application(environ, start_response)


class HealthcheckMount:
    """Send ``/healthcheck`` to oslo.middleware's healthcheck, the rest on.

    Healthcheck answers every request it gets, so it is mounted at its
    path; a request it ignores (``[healthcheck] allowed_source_ranges``)
    goes on to the API like any other.
    """

    def __init__(self, application, conf):
        self.application = application
        self.healthcheck = healthcheck.Healthcheck(application, conf)

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO') == HEALTHCHECK_PATH:
            return self.healthcheck(environ, start_response)
        return self.application(environ, start_response)


def _auth_middleware(application, conf):
    if conf.api.auth_strategy == 'noauth2':
        LOG.warning('[api] auth_strategy = noauth2: requests are NOT '
                    'authenticated. Never use it outside tests.')
        return NoAuthMiddleware(application)
    return KeystoneAuth(application, conf)


def loadapp(conf):
    """Return the backup-flows-api WSGI application configured by ``conf``.

    :param conf: a ConfigOpts holding backup-flows' options, parsed.
    """
    register_opts(conf)
    policy.init(conf)
    app = handler.Handler()
    # From the inside out: each layer wraps the one built before it, so a
    # request meets them bottom-up. The proxy headers are resolved first
    # and the request id is set next, so that every layer's logs and error
    # responses carry it; the fault wrapper, just inside, catches whatever
    # any later layer raises. Health checks and CORS pre-flight requests
    # are answered before authentication; too large a body is refused
    # before it costs a token validation. The microversion is parsed once
    # the caller is known, and stamps every response of the router.
    app = microversion.MicroversionMiddleware(app)
    app = context.ContextMiddleware(app, conf)
    app = _auth_middleware(app, conf)
    app = BodySizeLimit(app, conf)
    # Without [cors] allowed_origin, CORS passes everything through.
    app = cors.CORS(app, conf)
    app = HealthcheckMount(app, conf)
    app = errors.FaultWrapper(app)
    app = request_id.RequestId(app, conf)
    app = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    return app


def config_args(environ):
    """Return the ``--config-file`` arguments the environment asks for.

    ``OS_BACKUP_FLOWS_CONFIG_DIR``'s backup-flows.conf first, then the
    ``os.pathsep``-separated files of ``BACKUP_FLOWS_CONFIG_FILE`` (later
    files override earlier ones).
    """
    files = []
    dirname = environ.get(CONFIG_DIR_ENV, '').strip()
    if dirname:
        files.append(os.path.join(dirname, CONFIG_FILE))
    files.extend(path.strip() for path in
                 environ.get(CONFIG_FILE_ENV, '').split(os.pathsep)
                 if path.strip())
    return [arg for path in files for arg in ('--config-file', path)]


def init_application(environ=None):
    """Parse the configuration, set up logging, return the application.

    The global CONF is the one parsed: the operations, engine and clients
    the handlers call read their options from it.
    """
    environ = os.environ if environ is None else environ
    conf = bf_conf.CONF
    logging.register_options(conf)
    logging.set_defaults(default_log_levels=(
        logging.get_default_log_levels() +
        ['routes=INFO', 'stevedore=WARN', 'taskflow=WARN']))
    # Explicit arguments: oslo.config would otherwise parse sys.argv, the
    # WSGI server's command line. A missing or invalid option raises here
    # and stops the worker, the error in the server's log.
    conf(config_args(environ), project='backup-flows',
         prog='backup-flows-api')
    logging.setup(conf, 'backup-flows')
    py_logging.captureWarnings(True)
    application = loadapp(conf)
    # After loadapp: every middleware's options are registered by then.
    conf.log_opt_values(LOG, logging.DEBUG)
    return application
