"""Fake openstacksdk connections for unit tests: autospecced proxies.

A call or an argument the SDK's proxy does not have fails, as it would
against a cloud. (``openstack.test.fakes.generate_fake_proxy`` also fills in
return values, but takes about a second per proxy.)
"""

from unittest import mock

import fixtures
from openstack.block_storage.v3 import _proxy as block_storage_proxy
from openstack.compute.v2 import _proxy as compute_proxy
from openstack.image.v2 import _proxy as image_proxy
from openstack.network.v2 import _proxy as network_proxy
import requests
import testtools

from backup_flows import conf

PROXIES = {'compute': compute_proxy.Proxy, 'image': image_proxy.Proxy,
           'block_storage': block_storage_proxy.Proxy,
           'network': network_proxy.Proxy}

# Autospecced proxies of this process, reset and handed to the next
# ConnectedTestCase: autospeccing the four takes about half a second.
_reusable = {}


def connection(proxies=None):
    """A Connection whose compute, image, block_storage and network
    proxies are autospecced mocks (``proxies``: those to use instead)."""
    # Not an autospec of Connection itself: that takes longer than the four
    # proxies together, and only these attributes are used.
    conn = mock.NonCallableMock(spec=list(PROXIES) + [
        'current_project_id', 'config'])
    conn.config.name = 'fake-cloud'
    for name, proxy in PROXIES.items():
        setattr(conn, name, (proxies or {}).get(name) or
                mock.create_autospec(proxy, instance=True))
    return conn


def reused_connection():
    """A :func:`connection` whose proxies, made once per process, were
    reset: no call, return value or side effect of a previous test."""
    for name, proxy in PROXIES.items():
        if name in _reusable:
            _reusable[name].reset_mock(return_value=True, side_effect=True)
        else:
            _reusable[name] = mock.create_autospec(proxy, instance=True)
    return connection(_reusable)


def returns(method, value):
    """Make the fake proxy ``method`` return ``value``."""
    method.side_effect = None
    method.return_value = value


def response(status_code=200, document=None):
    """A requests Response of ``status_code`` whose JSON is ``document``."""
    resp = mock.create_autospec(requests.Response, instance=True)
    resp.status_code = status_code
    resp.json.return_value = document or {}
    return resp


class ConnectedTestCase(testtools.TestCase):
    """A test of code that connects to a cloud: the configuration parsed
    with defaults, ``clients.connect`` returning ``self.conn``, a
    :func:`connection`."""

    def setUp(self):
        super().setUp()
        conf.CONF([], project='backup-flows', default_config_files=[])
        self.conn = reused_connection()
        self.useFixture(fixtures.MockPatch('backup_flows.clients.connect',
                                           return_value=self.conn))
