"""The fault-injecting proxy of the functional tests: rules and forwarding."""

import http.client
import time

import testtools

from tests.functional import faultproxy
from tests.unit import httpstub


class TestRules(testtools.TestCase):

    def proxy(self, *rules):
        proxy = faultproxy.FaultProxy('http://127.0.0.1:9')
        proxy.add(*rules)
        return proxy

    def decisions(self, proxy, requests):
        return [getattr(proxy.decide(method, path), 'action', None)
                for method, path in requests]

    def test_method_and_path_must_both_match(self):
        proxy = self.proxy(faultproxy.status(method='GET|HEAD',
                                             path=r'^/v2/images/[^/]+$',
                                             count=None))
        self.assertEqual(['status', 'status', None, None, None],
                         self.decisions(proxy, [
                             ('GET', '/v2/images/abc'),
                             ('head', '/v2/images/abc'),
                             ('GET', '/v2/images/abc/file'),
                             ('POST', '/v2/images/abc'),
                             ('GETS', '/v2/images/abc')]))

    def test_skip_then_count(self):
        proxy = self.proxy(faultproxy.reset(path='/x', skip=2, count=2))
        self.assertEqual([None, None, 'reset', 'reset', None, None],
                         self.decisions(proxy, [('GET', '/x')] * 6))

    def test_a_permanent_fault_never_ends(self):
        proxy = self.proxy(faultproxy.status(path='/x', count=None))
        self.assertEqual(['status'] * 50,
                         self.decisions(proxy, [('GET', '/x')] * 50))

    def test_the_first_rule_whose_turn_it_is_acts_and_all_count(self):
        first = faultproxy.status(path='/x', count=1)
        second = faultproxy.reset(path='/x', skip=1, count=1)
        proxy = self.proxy(first, second)
        self.assertEqual(['status', 'reset', None],
                         self.decisions(proxy, [('GET', '/x')] * 3))
        self.assertEqual((3, 1, 3, 1), (first.seen, first.hits,
                                         second.seen, second.hits))

    def test_query_strings_are_part_of_the_path(self):
        proxy = self.proxy(faultproxy.status(path=r'\?name=a', count=None))
        self.assertEqual(['status', None], self.decisions(proxy, [
            ('GET', '/v2/images?name=a'), ('GET', '/v2/images')]))

    def test_bad_rules_and_upstreams_are_refused(self):
        self.assertRaises(ValueError, faultproxy.Rule, 'explode')
        self.assertRaises(ValueError, faultproxy.FaultProxy,
                          'https://127.0.0.1:9292')
        self.assertRaises(ValueError, faultproxy.FaultProxy,
                          'http://127.0.0.1')


class TestForwarding(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.stub = self.useFixture(httpstub.HTTPStub())
        self.proxy = self.useFixture(faultproxy.FaultProxy(self.stub.url))
        host, port = self.proxy.netloc.split(':')
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)
        self.addCleanup(self.conn.close)

    def fetch(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read()

    def test_requests_and_answers_pass_through_on_one_connection(self):
        self.assertEqual((200, b'ok'), self.fetch('GET', '/ok'))
        self.assertEqual((404, b'no such path'), self.fetch('GET', '/nope'))
        self.assertEqual((200, b''), self.fetch('HEAD', '/ok'))
        self.assertEqual((200, b'x' * 5), self.fetch('POST', '/echo',
                                                     b'hello'))
        self.assertEqual([(None, 200), (None, 404), (None, 200),
                          (None, 200)],
                         [(e['action'], e['status'])
                          for e in self.proxy.log])

    def test_large_and_chunked_bodies_stream_both_ways(self):
        size = 16 << 20
        status, body = self.fetch('GET', '/bytes/%d' % size)
        self.assertEqual((200, size), (status, len(body)))
        # An iterable body without a length goes chunked.
        self.assertEqual(200, self.fetch(
            'PUT', '/echo', iter([b'y' * (1 << 20)] * 16))[0])
        self.assertEqual(200, self.fetch('PUT', '/echo', b'z' * size)[0])
        self.assertEqual([size, size], self.stub.received['PUT', '/echo'])

    def test_status_answers_without_forwarding(self):
        self.proxy.add(faultproxy.status(503, method='POST', count=1))
        status, body = self.fetch('POST', '/echo', b'abc')
        self.assertEqual(503, status)
        self.assertIn(b'faultproxy', body)
        self.assertEqual(0, self.stub.hits['POST', '/echo'])
        # The connection stays usable; the next request goes through.
        self.assertEqual(200, self.fetch('POST', '/echo', b'abc')[0])

    def test_reset_before_and_after_forwarding(self):
        self.proxy.add(faultproxy.reset(path='/ok', count=1),
                       faultproxy.reset(path='/ok', skip=1, count=1,
                                        forward=True))
        for upstream_hits in (0, 1):
            self.assertRaises((ConnectionError, http.client.HTTPException),
                              self.fetch, 'GET', '/ok')
            self.assertEqual(upstream_hits, self.stub.hits['GET', '/ok'])
            self.conn.close()
        self.assertEqual((200, b'ok'), self.fetch('GET', '/ok'))

    def test_stall_delays_the_answer(self):
        self.proxy.add(faultproxy.stall(0.5, path='/ok', forward=True))
        start = time.monotonic()
        self.assertEqual((200, b'ok'), self.fetch('GET', '/ok'))
        self.assertGreaterEqual(time.monotonic() - start, 0.5)
        self.assertEqual(1, self.stub.hits['GET', '/ok'])

    def test_an_answer_cut_upstream_is_cut_for_the_client(self):
        # (A reset may discard what the client had not read yet.)
        self.assertRaises((http.client.IncompleteRead, ConnectionError),
                          self.fetch, 'GET', '/cut')

    def test_endpoints_through_the_proxy(self):
        self.assertEqual('http://%s/v2.1' % self.proxy.netloc,
                         self.proxy.endpoint('http://127.0.0.1:8774/v2.1'))
        self.assertEqual('http://%s' % self.proxy.netloc, self.proxy.url)
