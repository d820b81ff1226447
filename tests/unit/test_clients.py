"""The retrying layer of cloud connections (backup_flows.clients).

The policy is checked on its own, then through a keystoneauth session
against a stub service on loopback behind the fault proxy of the
functional tests (503s, resets, stalls as a cloud would show them).
"""

import logging
import os
import socket
import time
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from oslo_config import cfg
import requests
import testtools
from urllib3 import exceptions as urllib3_exc
from urllib3.util import retry as urllib3_retry

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import exceptions

from tests.functional import faultproxy
from tests.unit import httpstub


def make_conf(test, **cloud):
    """A configuration with these [cloud] options for the test's length
    (an override is held by the option group, shared by every
    configuration it is registered in: it must be cleared)."""
    conf = cfg.ConfigOpts()
    bf_conf.register_opts(conf)
    conf([], default_config_files=[])
    for name, value in cloud.items():
        conf.set_override(name, value, group='cloud')
        test.addCleanup(conf.clear_override, name, group='cloud')
    return conf


def _history(n):
    return (urllib3_retry.RequestHistory('GET', '/x', None, 503, None),) * n


class TestRetryPolicy(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = make_conf(self, retries=3, retry_delay=0.5,
                              retry_delay_max=3)
        self.policy = clients.retry_policy(conf=self.conf)
        self.streaming = clients.retry_policy(False, conf=self.conf)

    def test_counts_come_from_the_options(self):
        self.assertEqual((3, 3, 3, 3, 0), (
            self.policy.total, self.policy.connect, self.policy.read,
            self.policy.status, self.policy.other))
        self.assertEqual({429, 500, 502, 503, 504},
                         set(self.policy.status_forcelist))
        self.assertFalse(self.policy.raise_on_status)

    def test_which_answers_are_retried(self):
        cases = [('GET', 500, True), ('GET', 503, True),
                 ('DELETE', 502, True), ('PUT', 504, True),
                 ('GET', 404, False), ('GET', 409, False),
                 # a POST or PATCH only after a refusal
                 ('POST', 503, True), ('POST', 429, True),
                 ('PATCH', 503, True), ('POST', 500, False),
                 ('POST', 502, False), ('POST', 504, False)]
        self.assertEqual(cases, [(m, s, self.policy.is_retry(m, s))
                                 for m, s, _ in cases])

    def test_status_codes_are_configurable(self):
        policy = clients.retry_policy(conf=make_conf(
            self, retry_status_codes=[500]))
        self.assertTrue(policy.is_retry('GET', 500))
        self.assertFalse(policy.is_retry('GET', 503))
        self.assertFalse(policy.is_retry('POST', 503))

    def test_a_streamed_body_is_never_sent_twice(self):
        for status in (429, 500, 503):
            self.assertFalse(self.streaming.is_retry('PUT', status, True))
        reset = urllib3_exc.ProtocolError('Connection aborted.',
                                          ConnectionResetError(104))
        self.assertRaises(urllib3_exc.ProtocolError,
                          self.streaming.increment, 'PUT', '/file',
                          error=reset)

    def test_a_lost_answer_is_retried_for_idempotent_methods_only(self):
        reset = urllib3_exc.ProtocolError('Connection aborted.',
                                          ConnectionResetError(104))
        timeout = urllib3_exc.ReadTimeoutError(None, '/x', 'timed out')
        for error in (reset, timeout):
            self.assertEqual(2, self.policy.increment(
                'GET', '/x', error=error).read)
            self.assertRaises(type(error), self.policy.increment, 'POST',
                              '/x', error=error)

    def test_a_connection_never_made_is_retried_for_every_method(self):
        refused = urllib3_exc.NewConnectionError(None, 'refused')
        for policy in (self.policy, self.streaming):
            self.assertEqual(2, policy.increment('POST', '/x',
                                                 error=refused).connect)

    def test_backoff_doubles_up_to_the_cap(self):
        self.assertEqual([0, 0.5, 1, 2, 3, 3], [
            self.policy.new(history=_history(n)).get_backoff_time()
            for n in range(6)])

    def test_retry_after_is_capped(self):
        response = mock.Mock(headers={'Retry-After': '3600'})
        self.assertEqual(3, self.policy.get_retry_after(response))
        response.headers = {}
        self.assertIsNone(self.policy.get_retry_after(response))


class TestRetryingSession(testtools.TestCase):
    """Requests through the retrying layer, faults from the proxy."""

    def setUp(self):
        super().setUp()
        self.stub = self.useFixture(httpstub.HTTPStub())
        self.proxy = self.useFixture(faultproxy.FaultProxy(self.stub.url))
        self.log = self.useFixture(fixtures.FakeLogger(
            name='backup_flows.clients', level=logging.WARNING))
        self.session(retries=3)

    def session(self, **options):
        options.setdefault('read_timeout', 5)
        options.setdefault('retry_delay', 0.01)
        options.setdefault('retry_delay_max', 0.05)
        self.sess = ks_session.Session()
        clients.install_retries(self.sess, make_conf(self, **options))
        self.addCleanup(self.sess.session.close)
        return self.sess

    def request(self, method, path, **kwargs):
        return self.sess.request(self.proxy.url + path, method,
                                 authenticated=False, **kwargs)

    def outcomes(self, method='.*', path=''):
        return [(e['action'], e['status'])
                for e in self.proxy.requests(method, path)]

    def test_503s_and_resets_on_get_are_retried(self):
        self.proxy.add(faultproxy.status(503, path='^/ok', count=2),
                       faultproxy.reset(path='^/ok', count=1))
        self.assertEqual(b'ok', self.request('GET', '/ok').content)
        self.assertEqual([('status', 503), ('status', 503), ('reset', None),
                          (None, 200)], self.outcomes())
        lines = self.log.output.splitlines()
        self.assertEqual(3, len(lines), lines)
        self.assertIn('Retrying GET %s/ok in 0.01 s (2 retries left): '
                      'HTTP 503' % self.proxy.url, lines[0])
        self.assertIn('connection broken: ConnectionResetError', lines[2])

    def test_a_permanent_503_is_given_up_after_the_retries(self):
        self.proxy.add(faultproxy.status(503, path='^/ok', count=None))
        error = self.assertRaises(ks_exc.ServiceUnavailable, self.request,
                                  'GET', '/ok')
        self.assertEqual(503, error.http_status)
        self.assertEqual(4, len(self.outcomes()))
        self.assertIn('Giving up on GET %s/ok after 3 retries: HTTP 503'
                      % self.proxy.url, self.log.output)

    def test_a_stalled_answer_times_out_and_is_retried(self):
        self.session(retries=2, read_timeout=0.3)
        self.proxy.add(faultproxy.stall(2, path='^/ok'))
        start = time.monotonic()
        self.assertEqual(b'ok', self.request('GET', '/ok').content)
        self.assertLess(time.monotonic() - start, 1.5)
        self.assertIn('no answer within the read timeout', self.log.output)

    def test_the_read_timeout_bounds_silences_not_transfers(self):
        self.session(read_timeout=0.5)
        start = time.monotonic()
        response = self.request('GET', '/drip/8/0.15', stream=True)
        self.assertEqual(b'.' * 8, b''.join(response.iter_content(1)))
        self.assertGreater(time.monotonic() - start, 1)
        self.assertEqual('', self.log.output)

    def test_a_post_refused_with_503_is_sent_again(self):
        self.proxy.add(faultproxy.status(503, method='POST', count=1))
        self.assertEqual(200, self.request('POST', '/echo',
                                           data=b'abc').status_code)
        self.assertEqual([3], self.stub.received['POST', '/echo'])

    def test_a_post_failing_with_502_is_not_sent_again(self):
        self.proxy.add(faultproxy.status(502, method='POST', count=1))
        self.assertRaises(ks_exc.BadGateway, self.request, 'POST', '/echo',
                          data=b'abc')
        self.assertEqual(1, len(self.outcomes()))

    def test_a_post_whose_answer_was_lost_is_not_sent_again(self):
        self.proxy.add(faultproxy.reset(method='POST', forward=True))
        self.assertRaises(ks_exc.ConnectFailure, self.request, 'POST',
                          '/echo', data=b'abc')
        # The service acted on it once; nothing was sent a second time.
        self.assertEqual(1, self.stub.hits['POST', '/echo'])
        self.assertIn('Not sending POST %s/echo again (it may have been '
                      'acted on): connection broken' % self.proxy.url,
                      self.log.output)

    def test_a_put_of_bytes_is_sent_again_after_a_reset(self):
        self.proxy.add(faultproxy.reset(method='PUT', forward=True))
        self.assertEqual(200, self.request('PUT', '/echo',
                                           data=b'x' * 1000).status_code)
        self.assertEqual([1000, 1000], self.stub.received['PUT', '/echo'])

    def test_a_streamed_upload_is_not_sent_again(self):
        self.proxy.add(faultproxy.status(503, method='PUT'))
        blocks = iter([b'a' * 1000] * 3)
        self.assertRaises(ks_exc.ServiceUnavailable, self.request, 'PUT',
                          '/echo', data=blocks)
        self.assertEqual([('status', 503)], self.outcomes())
        # Without a fault the stream goes through whole.
        self.request('PUT', '/echo', data=iter([b'a' * 1000] * 3))
        self.assertEqual([3000], self.stub.received['PUT', '/echo'])

    def test_a_download_cut_midway_fails_without_retry(self):
        response = self.request('GET', '/cut', stream=True)
        self.assertRaises(requests.exceptions.RequestException, b''.join,
                          response.iter_content(10))
        self.assertEqual(1, self.stub.hits['GET', '/cut'])

    def test_large_bodies_stream_both_ways(self):
        size = 8 << 20
        response = self.request('GET', '/bytes/%d' % size, stream=True)
        self.assertEqual(size, sum(len(b) for b in
                                   response.iter_content(1 << 20)))
        self.request('PUT', '/echo',
                     data=iter([b'z' * (1 << 20)] * 8))
        self.assertEqual([size], self.stub.received['PUT', '/echo'])

    def test_an_unreachable_endpoint_is_retried_then_fails(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        # Nothing was sent: a POST is tried again too.
        self.assertRaises(ks_exc.ConnectFailure, self.sess.request,
                          'http://127.0.0.1:%d/x' % port, 'POST',
                          authenticated=False, data=b'abc')
        self.assertEqual(3, self.log.output.count('Retrying POST'))

    def test_requests_tried_once_are_not_retried(self):
        self.proxy.add(faultproxy.status(503, count=1))
        with clients.tried_once():
            self.assertRaises(ks_exc.ServiceUnavailable, self.request,
                              'GET', '/ok')
        self.assertEqual(b'ok', self.request('GET', '/ok').content)
        self.assertEqual([('status', 503), (None, 200)], self.outcomes())
        self.assertEqual('', self.log.output)


class TestConnect(testtools.TestCase):

    def setUp(self):
        super().setUp()
        bf_conf.CONF([], project='backup-flows', default_config_files=[])
        self.useFixture(fixtures.MonkeyPatch(
            'backup_flows.clients._connections', {}))
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'clouds.yaml')
        with open(path, 'w') as f:
            f.write('clouds:\n  unit:\n    auth:\n'
                    '      auth_url: http://127.0.0.1:9/v3\n'
                    '      username: u\n      password: p\n'
                    '      project_name: p\n'
                    '      user_domain_name: Default\n'
                    '      project_domain_name: Default\n'
                    '    region_name: RegionOne\n')
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', path))

    def test_the_connection_gets_the_retrying_layer(self):
        conn = clients.connect('unit')
        self.assertIs(conn, clients.connect('unit'))
        for prefix in ('http://', 'https://'):
            adapter = conn.session.session.adapters[prefix]
            self.assertIsInstance(adapter, clients.RetryingAdapter)
            self.assertIsInstance(adapter.max_retries, clients.RetryPolicy)
            self.assertEqual(5, adapter.max_retries.total)
            self.assertEqual((10.0, 120.0), adapter.default_timeout)
        # keystoneauth's own (method-blind) retries are off, openstacksdk's
        # default of 5 status retries for images included.
        for service in ('image', 'compute', 'block-storage'):
            self.assertEqual(0, conn.config.get_connect_retries(service))
            self.assertEqual(0, conn.config.get_status_code_retries(service))

    def test_an_unreachable_cloud_fails_the_check_at_once(self):
        start = time.monotonic()
        error = self.assertRaises(exceptions.CloudUnreachable,
                                  clients.check_cloud, 'unit')
        self.assertLess(time.monotonic() - start, 1)
        self.assertIn('Cloud unit cannot be reached', str(error))

    def test_no_cloud_configured_at_all_is_a_usage_error(self):
        empty = os.path.join(self.useFixture(fixtures.TempDir()).path,
                             'clouds.yaml')
        with open(empty, 'w') as f:
            f.write('clouds: {}\n')
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', empty))
        for name in [n for n in os.environ if n.startswith('OS_')
                     and n != 'OS_CLIENT_CONFIG_FILE']:
            self.useFixture(fixtures.EnvironmentVariable(name))
        error = self.assertRaises(exceptions.CloudConfigError,
                                  clients.connect)
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)
        self.assertIn('Cloud (default) is not usable: Auth plugin requires '
                      'parameters which were not given: auth_url (no '
                      'clouds.yaml entry or OS_* variables give it)',
                      str(error))
