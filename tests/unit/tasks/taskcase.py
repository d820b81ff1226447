"""Shared setup of the task unit tests: a fake cloud, waits that never
sleep, and the checks every revert must pass."""

import fixtures
from openstack import exceptions as sdk_exc
from taskflow.types import failure

from backup_flows import keys

from tests.unit import fake_cloud
from tests.unit import fake_sdk

JOB = '11111111-2222-3333-4444-555555555555'


def a_failure():
    """What TaskFlow hands a revert whose execute raised."""
    try:
        raise sdk_exc.HttpException('503 Service Unavailable')
    except sdk_exc.HttpException:
        return failure.Failure()


class TaskTestCase(fake_sdk.ConnectedTestCase):
    """``self.cloud``: a FakeCloud behind ``self.conn``."""

    def setUp(self):
        super().setUp()
        self.cloud = fake_cloud.FakeCloud(self.conn)
        self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.waits.time.sleep'))
        self.log = self.useFixture(fixtures.FakeLogger(
            name='backup_flows.tasks'))

    def assertRevertSwallows(self, task, method, *args, **kwargs):
        """With the proxy ``method`` failing, ``task.revert(*args,
        **kwargs)`` returns the error (recorded, logged), never raises."""
        self.cloud.fail(method)
        result = task.revert(*args, **kwargs)
        self.assertIn(keys.REVERT_FAILED, result)
        self.assertIn('Revert of task %s failed' % task.name,
                      self.log.output)
        return result

    def assertNoChange(self, *proxy_methods):
        """None of ``proxy_methods`` (``'compute.pause_server'``) called."""
        for method in proxy_methods:
            proxy, name = method.split('.')
            getattr(getattr(self.conn, proxy), name).assert_not_called()
