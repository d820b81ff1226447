"""Microversions of the API (``OpenStack-API-Version: server-protection X.Y``).

A request names the version it speaks in the standard header; without one
it gets the minimum version, with ``latest`` the maximum. The middleware
parses the header (through microversion-parse), stores the version in the
environ under :data:`MICROVERSION_ENVIRON` and stamps every response with
the version served and ``Vary: OpenStack-API-Version`` (caches must not
hand one version's answer to a client asking another).

A version the service does not serve is a 406 (the error names the
supported range); a header that is not ``X.Y`` is a 400. Both in the API's
JSON error format, which is why this module has its own small middleware
instead of microversion-parse's.

Handlers that differ between versions are declared with
:func:`version_handler`.
"""

import collections
import functools
import inspect

import microversion_parse
import webob.exc

from backup_flows.api import errors

SERVICE_TYPE = 'server-protection'
MICROVERSION_ENVIRON = '%s.microversion' % SERVICE_TYPE
# microversion-parse matches it in any case; this is how it is written.
HEADER = 'OpenStack-API-Version'

# Every version, oldest first, each with what it changed. Never remove or
# reorder one: clients pin them.
VERSIONS = [
    '1.0',  # the initial API
]

# Qualified handler name -> [(min, max or None, function)], newest first.
VERSIONED_METHODS = collections.defaultdict(list)


def min_version_string():
    return VERSIONS[0]


def max_version_string():
    return VERSIONS[-1]


class MicroversionMiddleware:
    """Parse the requested microversion; stamp it on the response."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        headers = microversion_parse.headers_from_wsgi_environ(environ)
        try:
            version = microversion_parse.extract_version(
                headers, SERVICE_TYPE, VERSIONS)
        except (ValueError, TypeError) as exc:
            response = _version_error(
                exc, microversion_parse.get_version(headers, SERVICE_TYPE),
                environ)
            return response(environ, start_response)
        environ[MICROVERSION_ENVIRON] = version
        served = '%s %s' % (SERVICE_TYPE, version)

        def stamping_start_response(status, headers, exc_info=None):
            headers = list(headers) + [(HEADER, served), ('Vary', HEADER)]
            return start_response(status, headers, exc_info)

        return self.application(environ, stamping_start_response)


def _version_error(exc, requested, environ):
    # extract_version raises ValueError for a version not served and
    # TypeError for one that is not X.Y.
    if isinstance(exc, ValueError):
        return errors.error_response(
            406, 'Microversion %s is not served: this service serves %s %s '
                 'to %s.' % (requested, SERVICE_TYPE, min_version_string(),
                             max_version_string()),
            environ, code=errors.MICROVERSION_UNSUPPORTED,
            min_version=min_version_string(),
            max_version=max_version_string())
    return errors.error_response(
        400, 'Invalid microversion %r: send "%s: %s X.Y" (or "latest").'
             % (requested, HEADER, SERVICE_TYPE),
        environ, code=errors.MICROVERSION_INVALID)


def _qualified_name(handler):
    # Only module-level functions: the registry is keyed by their name, so
    # that every version of a handler shares one entry.
    if not inspect.isfunction(handler):
        raise TypeError('version_handler needs a function, got %r'
                        % (handler,))
    return '%s.%s' % (handler.__module__, handler.__qualname__)


def version_handler(min_ver, max_ver=None, status_code=404):
    """Restrict a handler to the microversions ``min_ver`` to ``max_ver``.

    Place it under ``@util.wsgify``. Define the handler once per version
    range under the same name; a request runs the definition whose range
    holds its version, or gets ``status_code`` when none does. Ranges must
    not overlap (tests check that, not this). ``max_ver`` None: no upper
    bound, so the handler stays current as versions are added.
    """
    min_version = microversion_parse.parse_version_string(min_ver)
    max_version = (microversion_parse.parse_version_string(max_ver)
                   if max_ver else None)

    def decorator(func):
        name = _qualified_name(func)
        methods = VERSIONED_METHODS[name]
        methods.append((min_version, max_version, func))
        methods.sort(key=lambda entry: entry[0], reverse=True)

        @functools.wraps(func)
        def dispatch(req, *args, **kwargs):
            version = req.environ[MICROVERSION_ENVIRON]
            for low, high, candidate in VERSIONED_METHODS[name]:
                if low <= version and (high is None or version <= high):
                    return candidate(req, *args, **kwargs)
            raise webob.exc.status_map[status_code](
                'Not available in microversion %s.' % (version,))

        return dispatch
    return decorator
