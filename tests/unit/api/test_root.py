"""The version document at / and the health check: no token needed."""

import json

from tests.unit import api

VERSION_DOCUMENT = {'versions': [{
    'id': 'v1.0',
    'max_version': '1.0',
    'min_version': '1.0',
    'status': 'CURRENT',
    'links': [{'rel': 'self', 'href': ''}],
}]}


class RootTestCase(api.APITestCase):

    def test_version_document_without_token(self):
        response = self.request('/', token=None)
        self.assertEqual(200, response.status_int)
        self.assertEqual(api.JSON, response.content_type)
        self.assertEqual(VERSION_DOCUMENT, json.loads(response.body))
        self.assertTrue(
            response.headers['X-OpenStack-Request-Id'].startswith('req-'))

    def test_version_document_under_a_prefix(self):
        # Mounted at /server-protection, the root is the empty path.
        response = self.request('/server-protection', token=None,
                                environ={'SCRIPT_NAME': '/server-protection',
                                         'PATH_INFO': ''})
        self.assertEqual(200, response.status_int)
        self.assertEqual(VERSION_DOCUMENT, json.loads(response.body))

    def test_healthcheck_without_token(self):
        response = self.request('/healthcheck', token=None,
                                headers={'Accept': api.JSON})
        self.assertEqual(200, response.status_int)
        self.assertEqual(api.JSON, response.content_type)


class KeystoneRootTestCase(api.APITestCase):
    """With keystonemiddleware in the stack, / still needs no token."""

    auth_strategy = 'keystone'

    def setUp(self):
        super().setUp()
        self.config.config(www_authenticate_uri='http://127.0.0.1:9/identity',
                           group='keystone_authtoken')

    def test_version_document_without_token(self):
        response = self.request('/', token=None)
        self.assertEqual(200, response.status_int)
        self.assertEqual(VERSION_DOCUMENT, json.loads(response.body))

    def test_healthcheck_without_token(self):
        response = self.request('/healthcheck', token=None)
        self.assertEqual(200, response.status_int)
