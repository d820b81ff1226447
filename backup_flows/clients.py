"""Builds openstacksdk connections: the only module that does.

Tasks receive a cloud *name* (a clouds.yaml entry) from the flow store and
call :func:`connect` inside ``execute``/``revert``; connections never enter
the flow store. Connections are cached per process and cloud name.
"""

import threading

from keystoneauth1 import exceptions as ks_exc
import openstack
from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import conf as bf_conf
from backup_flows import exceptions

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

# keystoneauth retries a request whose connection failed before an answer
# (e.g. a keep-alive connection closed by the server as the client sent).
CONNECT_RETRIES = 3

_UNREACHABLE = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                ks_exc.DiscoveryFailure, ks_exc.EndpointNotFound)

_connections = {}
_lock = threading.Lock()


def cloud_name(cloud=None):
    """The cloud to act on: the argument, else --os-cloud, else OS_CLOUD."""
    return cloud or CONF.os_cloud or None


def connect(cloud=None):
    """Return a cached openstacksdk Connection for the named cloud."""
    name = cloud_name(cloud)
    with _lock:
        conn = _connections.get(name)
        if conn is None:
            try:
                conn = openstack.connect(cloud=name,
                                         connect_retries=CONNECT_RETRIES)
            except sdk_exc.ConfigException as exc:
                raise exceptions.CloudConfigError(
                    cloud=name or '(default)', reason=str(exc).rstrip('.'))
            _connections[name] = conn
        return conn


def check_cloud(cloud=None):
    """Authenticate now, turning failures into one clear error."""
    name = cloud_name(cloud) or '(default)'
    conn = connect(cloud)
    try:
        conn.authorize()
    except (ks_exc.ClientException, sdk_exc.SDKException) as exc:
        # openstacksdk wraps keystoneauth's errors: classify the cause.
        cause = exc.__cause__ or exc.__context__ or exc
        if isinstance(cause, _UNREACHABLE) or isinstance(exc, _UNREACHABLE):
            raise exceptions.CloudUnreachable(cloud=name, reason=cause)
        raise exceptions.CloudConfigError(cloud=name, reason=cause)
    return conn
