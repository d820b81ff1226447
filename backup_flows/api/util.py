"""Helpers for handlers: the wsgify decorator, JSON bodies in and out."""

import functools
import json

import jsonschema
import webob
import webob.dec
import webob.exc

from backup_flows.api import errors

# Request bodies are JSON Schema 2020-12 documents (backup_flows.api.schemas).
SCHEMA_VALIDATOR = jsonschema.Draft202012Validator


class wsgify(webob.dec.wsgify):
    """``webob.dec.wsgify`` answering expected errors in the API's format.

    A handler decorated with it may raise ``webob.exc`` errors or the
    exceptions :data:`errors.EXCEPTION_ERRORS` maps; anything else
    propagates to the fault wrapper (a 500 with the traceback logged).
    Success responses and ``webob.exc`` non-errors (e.g. a redirect) pass
    unchanged.
    """

    def call_func(self, req, *args, **kwargs):
        try:
            return super().call_func(req, *args, **kwargs)
        except Exception as exc:
            response = errors.expected_error_response(exc, req.environ)
            if response is None:
                raise
            return response


def json_response(data, status=200, headers=None):
    """Return a response whose body is ``data`` as JSON."""
    response = webob.Response(
        status=status, content_type='application/json', charset=None,
        body=json.dumps(data).encode('utf-8'))
    response.headers.extend(headers or ())
    return response


def extract_json(body, schema):
    """Return the JSON document ``body`` after checking it against ``schema``.

    :raises webob.exc.HTTPBadRequest: the body is not JSON, or does not
        validate; the detail names the offending member (as a JSON path).
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise webob.exc.HTTPBadRequest(
            'Malformed JSON in the request body: %s' % exc,
            comment=errors.BODY_MALFORMED)
    validator = SCHEMA_VALIDATOR(
        schema, format_checker=SCHEMA_VALIDATOR.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = '' if not error.absolute_path else ' at %s' % error.json_path
        raise webob.exc.HTTPBadRequest(
            'Invalid request body%s: %s' % (where, error.message),
            comment=errors.BODY_INVALID)
    return data


def require_content(content_type):
    """Decorator: refuse (415) a request body that is not ``content_type``.

    Place it under ``@wsgify``.
    """
    def decorator(func):
        @functools.wraps(func)
        def checked(req, *args, **kwargs):
            if req.content_type != content_type:
                raise webob.exc.HTTPUnsupportedMediaType(
                    'The media type %s is not supported, use %s.'
                    % (req.content_type or 'None', content_type),
                    comment=errors.CONTENT_TYPE_UNSUPPORTED)
            return func(req, *args, **kwargs)
        return checked
    return decorator


def wsgi_path_item(environ, name):
    """Return the value of the path parameter ``name`` of the route.

    E.g. ``job_id`` of ``/v1/jobs/{job_id}``; None when the route has none.
    """
    try:
        return environ['wsgiorg.routing_args'][1][name]
    except (KeyError, IndexError):
        return None
