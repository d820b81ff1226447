"""backup_flows.cloud.waits: polling with a timeout, first polls soon."""

import itertools
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
import testtools

from backup_flows import conf
from backup_flows import exceptions
from backup_flows.cloud import waits

CONF = conf.CONF


class Resource:
    def __init__(self, status):
        self.status = status


class WaitsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(CONF.clear_override, 'wait_interval')
        self.addCleanup(CONF.clear_override, 'wait_timeout')
        CONF.set_override('wait_interval', 2)
        self.sleep = self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.waits.time.sleep')).mock

    def slept(self):
        return [c.args[0] for c in self.sleep.call_args_list]

    def test_interval_is_a_twentieth_of_the_time_waited(self):
        self.assertEqual([0.25, 0.25, 0.5, 1.0, 2, 2],
                         [waits.interval(t) for t in (0, 4, 10, 20, 40, 600)])
        CONF.set_override('wait_interval', 1)
        self.assertEqual([0.25, 1, 1],
                         [waits.interval(t) for t in (0, 30, 600)])

    def test_wait_for_polls_until_ready(self):
        fetch = mock.Mock(side_effect=[Resource('creating')] * 4 +
                          [Resource('AVAILABLE')])
        res = waits.wait_for('Volume', 'v1', fetch, 'available')
        self.assertEqual('AVAILABLE', res.status)
        self.assertEqual(5, fetch.call_count)
        self.assertEqual([0.25] * 4, self.slept())

    def test_wait_for_failed_status_and_not_found(self):
        fetch = mock.Mock(return_value=Resource('error'))
        self.assertRaises(exceptions.ResourceFailed, waits.wait_for,
                          'Volume', 'v1', fetch, 'available',
                          failed=('error',))
        fetch = mock.Mock(side_effect=sdk_exc.NotFoundException())
        self.assertRaises(exceptions.NotFound, waits.wait_for,
                          'Volume', 'v1', fetch, 'available')

    def test_wait_for_times_out(self):
        clock = itertools.count(0, 100)
        self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.waits.time.monotonic',
            side_effect=lambda: next(clock)))
        fetch = mock.Mock(return_value=Resource('creating'))
        self.assertRaises(exceptions.ResourceTimeout, waits.wait_for,
                          'Volume', 'v1', fetch, 'available', timeout=250)

    def test_wait_for_delete(self):
        fetch = mock.Mock(side_effect=[Resource('deleting')] * 2 +
                          [sdk_exc.NotFoundException()])
        waits.wait_for_delete('Image', 'i1', fetch)
        self.assertEqual([0.25, 0.25], self.slept())
