"""Query parameters of the list handlers: filters, ``limit``, ``marker``,
``all_projects``; and the ``<collection>_links`` of a full page."""

import urllib.parse

import webob.exc

from backup_flows.api import errors

TRUE = ('1', 'true', 'yes')
FALSE = ('0', 'false', 'no')


def bool_param(req, name):
    value = req.GET.get(name, '0').lower()
    if value not in TRUE + FALSE:
        raise webob.exc.HTTPBadRequest(
            'Invalid %s %r: use 1 or 0.' % (name, value),
            comment=errors.DEFAULT_CODES[400])
    return value in TRUE


def params(req, filters):
    """(filters, limit, marker) of a list request; unknown parameters are
    refused (a typo must not widen a listing silently)."""
    known = set(filters) | {'limit', 'marker', 'all_projects'}
    unknown = sorted(set(req.GET) - known)
    if unknown:
        raise webob.exc.HTTPBadRequest(
            'Unknown query parameter(s): %s (known: %s).'
            % (', '.join(unknown), ', '.join(sorted(known))))
    limit = req.GET.get('limit')
    max_limit = req.environ['backup_flows.context'].config.api.max_limit
    if limit is None:
        limit = max_limit
    else:
        try:
            limit = int(limit)
        except ValueError:
            raise webob.exc.HTTPBadRequest(
                'Invalid limit %r: use a positive integer.' % limit)
        if limit < 1:
            raise webob.exc.HTTPBadRequest(
                'Invalid limit %d: use a positive integer.' % limit)
        limit = min(limit, max_limit)
    chosen = {name: req.GET[name] for name in filters if name in req.GET}
    return chosen, limit, req.GET.get('marker')


def links(req, collection, items, limit):
    """``{collection}_links`` with a ``next`` link when the page is full."""
    if len(items) < limit:
        return {}
    query = dict(req.GET, marker=items[-1]['id'], limit=str(limit))
    href = '%s?%s' % (req.path_url, urllib.parse.urlencode(sorted(
        query.items())))
    return {collection + '_links': [{'rel': 'next', 'href': href}]}
