"""The root of the API: the version document at ``/``.

It needs no token (``handler.PUBLIC_PATHS``), so a client learns the
microversions served before it authenticates.
"""

from backup_flows.api import microversion
from backup_flows.api import util


@util.wsgify
def home(req):
    """GET /: the one major version and its microversion range."""
    min_version = microversion.min_version_string()
    max_version = microversion.max_version_string()
    version = {
        'id': 'v%s' % min_version,
        'min_version': min_version,
        'max_version': max_version,
        # One major version only, so it is the current one.
        'status': 'CURRENT',
        # A relative "this URL": the service never has to know the
        # address (proxy, prefix) it is reached at.
        'links': [{'rel': 'self', 'href': ''}],
    }
    return util.json_response({'versions': [version]})
