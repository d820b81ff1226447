"""The middleware stack: body size, CORS, proxy headers, health check."""

import io
import os

import webob

from backup_flows.api import deploy
from backup_flows.api import errors
from backup_flows.api import util

from tests.unit import api

ORIGIN = 'https://dashboard.example'


@util.wsgify
def read_body(req):
    return util.json_response({'length': len(req.body),
                               'scheme': req.scheme})


class BodySizeTestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        self.config.config(max_request_body_size=64,
                           group='oslo_middleware')
        self.add_routes({'/v1/things': {'POST': read_body}})

    def test_body_over_the_limit_is_413(self):
        response = self.request('/v1/things', method='POST',
                                body=b'x' * 65, content_type=api.JSON)
        error = self.assertError(response, 413, errors.BODY_TOO_LARGE)
        self.assertIn('64', error['detail'])

    def test_body_at_the_limit_passes(self):
        response = self.request('/v1/things', method='POST',
                                body=b'x' * 64, content_type=api.JSON)
        self.assertEqual(200, response.status_int, response.body)

    def test_body_of_unknown_length_is_cut_at_the_limit(self):
        # Chunked: no Content-Length, so the limit bites while reading.
        req = webob.Request.blank('/v1/things', method='POST',
                                  content_type=api.JSON,
                                  headers={'X-Auth-Token': 'u:p'})
        req.body_file = io.BytesIO(b'x' * 100)
        self.assertError(req.get_response(self.app), 413,
                         errors.BODY_TOO_LARGE)


class CorsTestCase(api.APITestCase):

    def preflight(self):
        return self.request('/v1/things', method='OPTIONS', token=None,
                            headers={'Origin': ORIGIN,
                                     'Access-Control-Request-Method': 'POST'})

    def test_preflight_needs_no_token_once_the_origin_is_allowed(self):
        self.config.config(allowed_origin=[ORIGIN], group='cors')
        response = self.preflight()
        self.assertEqual(200, response.status_int)
        self.assertEqual(ORIGIN,
                         response.headers['Access-Control-Allow-Origin'])
        self.assertIn('POST', response.headers['Access-Control-Allow-Methods'])

    def test_responses_expose_the_api_headers(self):
        self.config.config(allowed_origin=[ORIGIN], group='cors')
        response = self.request('/', headers={'Origin': ORIGIN})
        exposed = response.headers['Access-Control-Expose-Headers']
        self.assertIn('OpenStack-API-Version', exposed)
        self.assertIn('X-OpenStack-Request-Id', exposed)

    def test_no_cors_headers_by_default(self):
        response = self.preflight()
        self.assertNotIn('Access-Control-Allow-Origin', response.headers)


class ProxyHeadersTestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        self.add_routes({'/v1/things': {'POST': read_body}})

    def scheme_seen(self):
        response = self.request('/v1/things', method='POST', body=b'{}',
                                content_type=api.JSON,
                                headers={'X-Forwarded-Proto': 'https'})
        return response.json_body['scheme']

    def test_proxy_headers_parsed_when_enabled(self):
        self.config.config(enable_proxy_headers_parsing=True,
                           group='oslo_middleware')
        self.assertEqual('https', self.scheme_seen())

    def test_proxy_headers_ignored_by_default(self):
        self.assertEqual('http', self.scheme_seen())


class HealthcheckTestCase(api.APITestCase):

    def test_request_outside_the_allowed_sources_goes_to_the_api(self):
        self.config.config(allowed_source_ranges=['192.0.2.0/24'],
                           group='healthcheck')
        response = self.request('/healthcheck', token=None,
                                remote_addr='127.0.0.1')
        self.assertError(response, 401)


class ConfigArgsTestCase(api.APITestCase):

    def test_none(self):
        self.assertEqual([], deploy.config_args({}))

    def test_directory_then_files(self):
        environ = {
            deploy.CONFIG_DIR_ENV: '/etc/bf ',
            deploy.CONFIG_FILE_ENV: os.pathsep.join(
                ['/a.conf', '', '/b.conf']),
        }
        self.assertEqual(['--config-file', '/etc/bf/backup-flows.conf',
                          '--config-file', '/a.conf',
                          '--config-file', '/b.conf'],
                         deploy.config_args(environ))
