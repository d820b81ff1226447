"""OpenStack-API-Version: server-protection X.Y."""

import json

import fixtures

from backup_flows.api import errors
from backup_flows.api import microversion
from backup_flows.api import util

from tests.unit import api

HEADER = 'OpenStack-API-Version'


@util.wsgify
@microversion.version_handler('1.0', '1.0')
def versioned(req):
    return util.json_response({'served_by': '1.0'})


@util.wsgify  # noqa: F811 (one name, one definition per version range)
@microversion.version_handler('1.1')
def versioned(req):  # noqa: F811
    return util.json_response({'served_by': '1.1+'})


@util.wsgify
@microversion.version_handler('1.1')
def added_in_1_1(req):
    return util.json_response({})


class MicroversionTestCase(api.APITestCase):

    def get(self, version=None, path='/'):
        headers = {HEADER: version} if version else {}
        return self.request(path, headers=headers)

    def assertServed(self, version, response):
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual('server-protection %s' % version,
                         response.headers[HEADER])
        self.assertEqual(HEADER, response.headers['Vary'])

    def test_no_header_gets_the_minimum(self):
        self.assertServed('1.0', self.get())

    def test_explicit_version(self):
        self.assertServed('1.0', self.get('server-protection 1.0'))

    def test_latest_gets_the_maximum(self):
        self.assertServed('1.0', self.get('server-protection latest'))

    def test_other_services_versions_are_ignored(self):
        self.assertServed('1.0', self.get('compute 2.90'))

    def test_version_out_of_range_is_406_with_the_range(self):
        response = self.get('server-protection 1.5')
        error = self.assertError(response, 406,
                                 errors.MICROVERSION_UNSUPPORTED)
        self.assertEqual('1.0', error['min_version'])
        self.assertEqual('1.0', error['max_version'])
        self.assertIn('1.5', error['detail'])

    def test_malformed_version_is_400(self):
        error = self.assertError(self.get('server-protection one.two'), 400,
                                 errors.MICROVERSION_INVALID)
        self.assertIn('one.two', error['detail'])

    def test_error_responses_carry_the_version(self):
        response = self.get('server-protection 1.0', path='/v1/nothing')
        self.assertError(response, 404)
        self.assertEqual('server-protection 1.0', response.headers[HEADER])
        self.assertEqual(HEADER, response.headers['Vary'])


class VersionHandlerTestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            microversion, 'VERSIONS', ['1.0', '1.1', '1.2']))
        self.add_routes({'/v1/versioned': {'GET': versioned},
                         '/v1/new': {'GET': added_in_1_1}})

    def served_by(self, version):
        response = self.request('/v1/versioned',
                                headers={HEADER: 'server-protection %s'
                                         % version})
        self.assertEqual(200, response.status_int, response.body)
        return json.loads(response.body)['served_by']

    def test_each_version_runs_its_definition(self):
        self.assertEqual('1.0', self.served_by('1.0'))
        self.assertEqual('1.1+', self.served_by('1.1'))
        self.assertEqual('1.1+', self.served_by('1.2'))
        self.assertEqual('1.1+', self.served_by('latest'))

    def test_handler_absent_from_older_versions_is_404(self):
        self.assertError(self.request('/v1/new'), 404)
        response = self.request('/v1/new',
                                headers={HEADER: 'server-protection 1.1'})
        self.assertEqual(200, response.status_int)

    def test_version_document_shows_the_range(self):
        version = json.loads(self.request('/').body)['versions'][0]
        self.assertEqual(('1.0', '1.2'),
                         (version['min_version'], version['max_version']))

    def test_only_functions_can_be_versioned(self):
        self.assertRaises(TypeError,
                          microversion.version_handler('1.0'), object())
