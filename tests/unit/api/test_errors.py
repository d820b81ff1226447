"""Every error answers in one JSON format, whoever raised it."""

import webob.exc

from backup_flows import exceptions
from backup_flows.api import errors
from backup_flows.api import util

from tests.unit import api


@util.wsgify
def fail_unexpectedly(req):
    raise RuntimeError('boom: /secret/path')


@util.wsgify
def raise_job_not_found(req):
    raise exceptions.JobNotFound(job_id='42')


@util.wsgify
def raise_invalid_input(req):
    raise exceptions.InvalidInput(reason='limit must be positive')


@util.wsgify
def raise_job_taken(req):
    raise exceptions.JobTaken(job_id='42', pid=7, host='h1')


@util.wsgify
def raise_policy_refusal(req):
    raise exceptions.PolicyNotAuthorized(action='server-protection:x:y')


@util.wsgify
def raise_unmapped_error(req):
    raise exceptions.CloudConfigError(cloud='c1', reason='password: hunter2')


@util.wsgify
def raise_conflict_with_code(req):
    raise webob.exc.HTTPConflict('The job is busy.',
                                 comment='backup_flows.job.busy')


def fail_outside_a_handler(environ, start_response):
    raise ValueError('not wrapped')


class RouterErrorsTestCase(api.APITestCase):

    def test_unknown_path_is_404(self):
        error = self.assertError(self.request('/v1/nothing'), 404,
                                 errors.ROUTE_NOT_FOUND)
        self.assertIn('/v1/nothing', error['detail'])

    def test_wrong_method_is_405_with_allow(self):
        self.add_routes({'/v1/things': {'GET': api.echo_context,
                                        'POST': api.echo_context}})
        response = self.request('/v1/things', method='DELETE')
        self.assertError(response, 405, 'backup_flows.method_not_allowed')
        self.assertEqual('GET, POST', response.headers['Allow'])

    def test_json_even_when_the_client_prefers_html(self):
        response = self.request('/v1/nothing',
                                headers={'Accept': 'text/html'})
        self.assertError(response, 404)

    def test_body_without_content_type_is_400(self):
        self.add_routes({'/v1/things': {'POST': api.echo_context}})
        response = self.request('/v1/things', method='POST', body=b'{}',
                                content_type='')
        self.assertError(response, 400, errors.CONTENT_TYPE_MISSING)

    def test_request_id_differs_per_request(self):
        first = self.assertError(self.request('/v1/nothing'), 404)
        second = self.assertError(self.request('/v1/nothing'), 404)
        self.assertNotEqual(first['request_id'], second['request_id'])


class HandlerErrorsTestCase(api.APITestCase):

    def setUp(self):
        super().setUp()
        self.add_routes({
            '/v1/boom': {'GET': fail_unexpectedly},
            '/v1/job': {'GET': raise_job_not_found},
            '/v1/invalid': {'GET': raise_invalid_input},
            '/v1/taken': {'GET': raise_job_taken},
            '/v1/unmapped': {'GET': raise_unmapped_error},
            '/v1/refused': {'GET': raise_policy_refusal},
            '/v1/conflict': {'GET': raise_conflict_with_code},
            '/v1/raw': {'GET': fail_outside_a_handler},
        })

    def test_unexpected_exception_is_500_without_traceback(self):
        response = self.request('/v1/boom')
        error = self.assertError(response, 500, errors.INTERNAL_ERROR)
        self.assertNotIn(b'boom', response.body)
        self.assertNotIn(b'Traceback', response.body)
        # The log has what the body does not, under the same request id.
        self.assertIn('Traceback', self.log.output)
        self.assertIn('boom: /secret/path', self.log.output)
        self.assertIn(error['request_id'], self.log.output)

    def test_exception_outside_a_handler_is_500(self):
        self.assertError(self.request('/v1/raw'), 500, errors.INTERNAL_ERROR)
        self.assertIn('not wrapped', self.log.output)

    def test_not_found_is_404(self):
        error = self.assertError(self.request('/v1/job'), 404,
                                 'backup_flows.not_found')
        self.assertEqual('Job 42 not found.', error['detail'])

    def test_invalid_input_is_400(self):
        error = self.assertError(self.request('/v1/invalid'), 400,
                                 'backup_flows.invalid_input')
        self.assertIn('limit must be positive', error['detail'])

    def test_most_specific_mapping_wins(self):
        self.assertError(self.request('/v1/taken'), 409,
                         'backup_flows.job.taken')

    def test_policy_refusal_is_403(self):
        error = self.assertError(self.request('/v1/refused'), 403,
                                 errors.POLICY_FORBIDDEN)
        self.assertIn('server-protection:x:y', error['detail'])

    def test_unmapped_service_error_is_a_silent_500(self):
        response = self.request('/v1/unmapped')
        self.assertError(response, 500, errors.INTERNAL_ERROR)
        self.assertNotIn(b'hunter2', response.body)

    def test_webob_error_keeps_its_code_and_microversion(self):
        response = self.request('/v1/conflict')
        error = self.assertError(response, 409, 'backup_flows.job.busy')
        self.assertEqual('The job is busy.', error['detail'])
        self.assertEqual('server-protection 1.0',
                         response.headers['OpenStack-API-Version'])
