"""Request bodies: content type, JSON and schema checks."""

import json

from backup_flows.api import errors
from backup_flows.api import util

from tests.unit import api

SCHEMA = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string', 'maxLength': 10},
        'server_id': {'type': 'string', 'format': 'uuid'},
        'options': {
            'type': 'object',
            'properties': {'ttl': {'type': 'integer', 'minimum': 1}},
        },
    },
    'required': ['name'],
    'additionalProperties': False,
}


@util.wsgify
@util.require_content(api.JSON)
def create_thing(req):
    return util.json_response(util.extract_json(req.body, SCHEMA),
                              status=201)


class BodyTestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        self.add_routes({'/v1/things': {'POST': create_thing}})

    def post(self, body, content_type=api.JSON):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return self.request('/v1/things', method='POST', body=body,
                            content_type=content_type)

    def test_valid_body(self):
        body = {'name': 'nightly',
                'server_id': '8a4b2b4e-6a4f-4e7a-9a43-0f5b8e6a2c11',
                'options': {'ttl': 3}}
        response = self.post(body)
        self.assertEqual(201, response.status_int, response.body)
        self.assertEqual(body, json.loads(response.body))

    def test_malformed_json(self):
        error = self.assertError(self.post(b'{"name": '), 400,
                                 errors.BODY_MALFORMED)
        self.assertIn('Malformed JSON', error['detail'])

    def test_not_utf8(self):
        self.assertError(self.post(b'\xff\xfe{'), 400, errors.BODY_MALFORMED)

    def test_missing_member_is_named(self):
        error = self.assertError(self.post({}), 400, errors.BODY_INVALID)
        self.assertIn("'name' is a required property", error['detail'])

    def test_nested_bad_member_is_named_by_path(self):
        error = self.assertError(
            self.post({'name': 'n', 'options': {'ttl': 0}}), 400,
            errors.BODY_INVALID)
        self.assertIn('$.options.ttl', error['detail'])

    def test_format_is_checked(self):
        error = self.assertError(
            self.post({'name': 'n', 'server_id': 'not-a-uuid'}), 400,
            errors.BODY_INVALID)
        self.assertIn('$.server_id', error['detail'])

    def test_unknown_member_is_named(self):
        error = self.assertError(self.post({'name': 'n', 'colour': 'red'}),
                                 400, errors.BODY_INVALID)
        self.assertIn("'colour'", error['detail'])

    def test_other_content_type_is_415(self):
        error = self.assertError(self.post(b'name=n', 'text/plain'), 415,
                                 errors.CONTENT_TYPE_UNSUPPORTED)
        self.assertIn('text/plain', error['detail'])


class PathItemTestCase(api.APITestCase):

    def test_path_parameter(self):
        @util.wsgify
        def show(req):
            return util.json_response(
                [util.wsgi_path_item(req.environ, 'thing_id'),
                 util.wsgi_path_item(req.environ, 'absent')])

        self.add_routes({'/v1/things/{thing_id}': {'GET': show}})
        response = self.request('/v1/things/t-1')
        self.assertEqual(['t-1', None], json.loads(response.body))
