"""Error responses of the API, all in one JSON format.

Every error the API answers, whichever layer found it, has the shape of the
API-SIG errors guideline (as Placement's)::

    {"errors": [{"status": 404,
                 "code": "backup_flows.not_found",
                 "title": "Not Found",
                 "detail": "Job 42 not found.",
                 "request_id": "req-..."}]}

``code`` is a stable string clients may branch on: once published, a code
keeps its meaning. Handlers raise ``webob.exc`` errors (the code goes in
``comment``, as in Placement: ``HTTPConflict(detail, comment=CODE)``) or let
:mod:`backup_flows.exceptions` errors propagate: :data:`EXCEPTION_ERRORS`
maps them to a status and a code. Anything else is a bug: a 500 whose body
names only the request id, the traceback going to the log.

The body is always JSON, whatever the request's ``Accept``: webob's own
error pages would answer HTML to a browser and plain text to curl.
"""

import json

from oslo_log import log as logging
from oslo_middleware import request_id
import webob
import webob.exc

from backup_flows import exceptions

LOG = logging.getLogger(__name__)

# Codes of specific conditions; the others get their status's default.
AUTH_REQUIRED = 'backup_flows.auth.required'
PROJECT_SCOPE_REQUIRED = 'backup_flows.auth.project_scope_required'
POLICY_FORBIDDEN = 'backup_flows.policy.forbidden'
ROUTE_NOT_FOUND = 'backup_flows.route.not_found'
MICROVERSION_INVALID = 'backup_flows.microversion.invalid'
MICROVERSION_UNSUPPORTED = 'backup_flows.microversion.unsupported'
BODY_MALFORMED = 'backup_flows.body.malformed'
BODY_INVALID = 'backup_flows.body.invalid'
BODY_TOO_LARGE = 'backup_flows.body.too_large'
CONTENT_TYPE_MISSING = 'backup_flows.body.content_type_missing'
CONTENT_TYPE_UNSUPPORTED = 'backup_flows.body.content_type_unsupported'
INTERNAL_ERROR = 'backup_flows.internal_error'
UNDEFINED = 'backup_flows.undefined_code'

AUTH_REQUIRED_DETAIL = ('The request you have made requires '
                        'authentication: send a token in X-Auth-Token.')

DEFAULT_CODES = {
    400: 'backup_flows.bad_request',
    401: AUTH_REQUIRED,
    403: 'backup_flows.forbidden',
    404: 'backup_flows.not_found',
    405: 'backup_flows.method_not_allowed',
    406: 'backup_flows.not_acceptable',
    409: 'backup_flows.conflict',
    413: BODY_TOO_LARGE,
    415: CONTENT_TYPE_UNSUPPORTED,
    500: INTERNAL_ERROR,
    503: 'backup_flows.service_unavailable',
}

# Expected errors a handler may let propagate: (status, code). The most
# specific class of an exception's MRO wins. Errors not listed (a broken
# plugin, a bad cloud configuration, an unusable database or jobboard) are
# the operator's to fix, and their messages may name internal hosts: a 500
# with no detail, the message going to the log only.
EXCEPTION_ERRORS = {
    exceptions.InvalidInput: (400, 'backup_flows.invalid_input'),
    exceptions.PolicyNotAuthorized: (403, POLICY_FORBIDDEN),
    exceptions.TrustNotAllowed: (403, 'backup_flows.trust.not_allowed'),
    exceptions.NotFound: (404, 'backup_flows.not_found'),
    exceptions.CatalogEntryExists: (409, 'backup_flows.catalog.exists'),
    exceptions.CatalogStatusConflict: (409,
                                       'backup_flows.catalog.status_conflict'),
    exceptions.InvalidServerState: (409, 'backup_flows.server.invalid_state'),
    exceptions.JobNotAbortable: (409, 'backup_flows.job.not_abortable'),
    exceptions.JobNotResumable: (409, 'backup_flows.job.not_resumable'),
    exceptions.JobTaken: (409, 'backup_flows.job.taken'),
    exceptions.BackupNotRestorable: (409,
                                     'backup_flows.backup.not_restorable'),
    exceptions.RepositoryExists: (409, 'backup_flows.repository.exists'),
    exceptions.RepositoryLocked: (409, 'backup_flows.repository.locked'),
    exceptions.CloudUnreachable: (503, 'backup_flows.cloud.unreachable'),
}

# Headers of a webob exception that describe its HTML body, not the error.
_BODY_HEADERS = frozenset(('content-type', 'content-length'))


def error_response(status, detail, environ, code=None, headers=None,
                   title=None, **extra):
    """Return the JSON error response ``status`` (an int).

    :param environ: the request's WSGI environ, for its request id.
    :param code: the error code; default: the status's (DEFAULT_CODES).
    :param headers: (name, value) pairs to add, e.g. ``Allow``.
    :param extra: more members of the error object (e.g. ``max_version``).
    """
    error = {
        'status': status,
        'code': code or DEFAULT_CODES.get(status, UNDEFINED),
        'title': title or webob.exc.status_map[status].title,
        'detail': detail,
    }
    req_id = environ.get(request_id.ENV_REQUEST_ID)
    if req_id:
        error['request_id'] = req_id
    error.update(extra)
    response = webob.Response(
        status=status, content_type='application/json', charset=None,
        body=json.dumps({'errors': [error]}).encode('utf-8'))
    response.headers.extend(headers or ())
    return response


def http_error_response(exc, environ, detail=None, code=None):
    """Return the JSON form of ``exc``, a ``webob.exc.HTTPError``.

    Its headers (``Allow``, ``WWW-Authenticate``, ...) are kept; ``detail``
    and ``code`` replace the exception's own when given.
    """
    headers = [(name, value) for name, value in exc.headerlist
               if name.lower() not in _BODY_HEADERS]
    return error_response(
        exc.code, detail or exc.detail or exc.explanation, environ,
        code=code or exc.comment, headers=headers, title=exc.title)


def expected_error_response(exc, environ):
    """Return the response for an error a handler may raise, else None.

    ``webob.exc`` errors and the exceptions of :data:`EXCEPTION_ERRORS`
    are expected; None tells the caller ``exc`` is a bug.
    """
    if isinstance(exc, webob.exc.HTTPError):
        response = http_error_response(exc, environ)
    else:
        for cls in type(exc).__mro__:
            if cls in EXCEPTION_ERRORS:
                status, code = EXCEPTION_ERRORS[cls]
                response = error_response(status, str(exc), environ, code)
                break
        else:
            return None
    LOG.log(logging.WARNING if response.status_code >= 500 else logging.DEBUG,
            'API error response %s: %s', response.status, exc)
    return response


def unexpected_error_response(exc, environ):
    """Log ``exc`` with its traceback; return a 500 that reveals nothing."""
    LOG.error('Unexpected error in %s %s (request %s)',
              environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'),
              environ.get(request_id.ENV_REQUEST_ID), exc_info=exc)
    return error_response(
        500, 'The server failed unexpectedly; its log has the details under '
             'this request id.', environ)


class FaultWrapper:
    """Middleware turning any exception from below into a JSON error.

    The handlers answer their expected errors themselves (util.wsgify);
    this is the net under the whole stack, for bugs and for errors raised
    outside a handler.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            return self.application(environ, start_response)
        except Exception as exc:
            response = expected_error_response(exc, environ)
            if response is None:
                response = unexpected_error_response(exc, environ)
            return response(environ, start_response)
