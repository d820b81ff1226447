"""Tests of backup-flows-api, driving the whole stack in-process.

:class:`APITestCase` builds the application with ``deploy.loadapp`` from a
ConfigOpts of its own (never the global CONF) and sends it
``webob.Request.blank`` requests: no server, no network.
"""

import json
import logging

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools
import webob

from backup_flows import conf as bf_conf
from backup_flows import policy
from backup_flows.api import deploy
from backup_flows.api import handler
from backup_flows.api import util

JSON = 'application/json'


class APITestCase(testtools.TestCase):
    """Base of the API tests: a fresh configuration, an app on demand."""

    auth_strategy = 'noauth2'

    def setUp(self):
        super().setUp()
        # auth_token and the noauth2 warning log at start: keep them in the
        # test's details instead of on the console.
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        conf = cfg.ConfigOpts()
        bf_conf.register_opts(conf)
        deploy.register_opts(conf)
        self.config = self.useFixture(config_fixture.Config(conf))
        conf([], project='backup-flows', default_config_files=[])
        self.conf = conf
        # the enforcer is built by loadapp from this test's configuration
        policy.reset()
        self.addCleanup(policy.reset)
        self.config.config(auth_strategy=self.auth_strategy, group='api')
        self._app = None

    @property
    def app(self):
        """The application, built on first use (after options and routes)."""
        if self._app is None:
            self._app = deploy.loadapp(self.conf)
        return self._app

    def add_routes(self, routes):
        """Add ``routes`` (path -> {method: handler}) to the route table."""
        self.useFixture(fixtures.MockPatchObject(
            handler, 'ROUTE_DECLARATIONS',
            dict(handler.ROUTE_DECLARATIONS, **routes)))

    def request(self, path, method='GET', token='user:project',
                headers=None, **kwargs):
        """Send one request; ``token`` None sends no X-Auth-Token."""
        headers = dict(headers or {})
        if token is not None:
            headers.setdefault('X-Auth-Token', token)
        req = webob.Request.blank(path, method=method, headers=headers,
                                  **kwargs)
        return req.get_response(self.app)

    def assertError(self, response, status, code=None):
        """Check ``response`` is one JSON error of ``status`` (and ``code``);
        return the error object."""
        self.assertEqual(status, response.status_int, response.body)
        self.assertEqual(JSON, response.content_type)
        errors = json.loads(response.body)['errors']
        self.assertEqual(1, len(errors))
        error = errors[0]
        self.assertEqual(status, error['status'])
        self.assertTrue(error['code'].startswith('backup_flows.'), error)
        if code is not None:
            self.assertEqual(code, error['code'])
        self.assertEqual(
            response.headers['X-OpenStack-Request-Id'], error['request_id'])
        self.assertTrue(error['request_id'].startswith('req-'))
        self.assertTrue(error['title'])
        self.assertTrue(error['detail'])
        return error


@util.wsgify
def echo_context(req):
    """A throw-away handler: the request context as JSON."""
    ctx = req.environ['backup_flows.context']
    return util.json_response({
        'user_id': ctx.user_id, 'project_id': ctx.project_id,
        'roles': sorted(ctx.roles), 'request_id': ctx.request_id,
        'has_config': ctx.config is not None})

