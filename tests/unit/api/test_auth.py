"""Authentication (auth_token or noauth2) and the request context."""

import json

import fixtures
from keystoneauth1 import loading
import webob

from backup_flows.api import context
from backup_flows.api import errors

from tests.unit import api

IDENTITY = 'http://127.0.0.1:9/identity'  # nothing listens there


class NoAuthTestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        self.add_routes({'/v1/whoami': {'GET': api.echo_context}})

    def whoami(self, token, headers=None):
        response = self.request('/v1/whoami', token=token, headers=headers)
        self.assertEqual(200, response.status_int, response.body)
        return json.loads(response.body)

    def test_no_token_is_401(self):
        self.assertError(self.request('/v1/whoami', token=None), 401,
                         errors.AUTH_REQUIRED)

    def test_user_in_project(self):
        ctx = self.whoami('alice:proj1')
        self.assertEqual(('alice', 'proj1', ['member', 'reader']),
                         (ctx['user_id'], ctx['project_id'], ctx['roles']))
        self.assertTrue(ctx['has_config'])

    def test_admin(self):
        ctx = self.whoami('admin')
        self.assertEqual(('admin', 'admin', ['admin', 'member', 'reader']),
                         (ctx['user_id'], ctx['project_id'], ctx['roles']))

    def test_roles_header_replaces_the_roles(self):
        ctx = self.whoami('bob:proj1', headers={'X-Roles': 'reader'})
        self.assertEqual(['reader'], ctx['roles'])

    def test_context_has_the_request_id(self):
        response = self.request('/v1/whoami')
        self.assertEqual(response.headers['X-OpenStack-Request-Id'],
                         json.loads(response.body)['request_id'])


class ContextMiddlewareTestCase(api.APITestCase):
    """The context middleware alone, behind any authentication."""

    def call(self, path, headers):
        app = context.ContextMiddleware(api.echo_context, self.conf)
        return webob.Request.blank(path, headers=headers).get_response(app)

    def test_project_scope_required(self):
        response = self.call('/v1/whoami', {'X-User-Id': 'u',
                                            'X-Roles': 'admin'})
        self.assertEqual(403, response.status_int)
        error = json.loads(response.body)['errors'][0]
        self.assertEqual(errors.PROJECT_SCOPE_REQUIRED, error['code'])

    def test_no_user_is_401(self):
        response = self.call('/v1/whoami', {'X-Project-Id': 'p'})
        self.assertEqual(401, response.status_int)

    def test_identity_headers_ignored_on_public_paths(self):
        # Nobody checked them there: auth_token lets / through untouched.
        response = self.call('/', {'X-User-Id': 'mallory',
                                   'X-Project-Id': 'p', 'X-Roles': 'admin'})
        ctx = json.loads(response.body)
        self.assertEqual((None, None, []),
                         (ctx['user_id'], ctx['project_id'], ctx['roles']))


class KeystoneAuthTestCase(api.APITestCase):

    auth_strategy = 'keystone'

    def setUp(self):
        super().setUp()
        self.config.config(www_authenticate_uri=IDENTITY,
                           group='keystone_authtoken')
        self.add_routes({'/v1/whoami': {'GET': api.echo_context}})

    def forbid_keystone_calls(self):
        self.useFixture(fixtures.MockPatch(
            'keystoneauth1.session.Session.request',
            side_effect=AssertionError('no call to Keystone expected')))

    def test_no_token_is_401_without_calling_keystone(self):
        self.forbid_keystone_calls()
        response = self.request('/v1/whoami', token=None)
        self.assertError(response, 401, errors.AUTH_REQUIRED)
        self.assertEqual('Keystone uri="%s"' % IDENTITY,
                         response.headers['WWW-Authenticate'])

    def test_forged_identity_headers_are_not_believed(self):
        self.forbid_keystone_calls()
        response = self.request('/v1/whoami', token=None, headers={
            'X-User-Id': 'mallory', 'X-Project-Id': 'p',
            'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin'})
        self.assertError(response, 401, errors.AUTH_REQUIRED)

    def test_keystone_unreachable_is_503(self):
        # auth_token's own service credentials, as [keystone_authtoken]
        # holds them in production (auth_type password).
        self.conf.register_opts(
            loading.get_auth_plugin_conf_options('password'),
            group='keystone_authtoken')
        self.config.config(
            group='keystone_authtoken', auth_type='password',
            auth_url=IDENTITY, username='backup-flows', password='secret',
            project_name='service', user_domain_name='Default',
            project_domain_name='Default', http_connect_timeout=2,
            http_request_max_retries=0)
        response = self.request('/v1/whoami', token='some-token')
        self.assertError(response, 503, 'backup_flows.service_unavailable')
        self.assertNotIn(b'secret', response.body)
