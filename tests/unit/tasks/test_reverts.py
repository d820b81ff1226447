"""Every task's revert is guarded: whatever its cloud calls raise, it
returns (recording the failure) so that the rest of the revert chain runs."""

import inspect
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from taskflow import task
import testtools

from backup_flows import conf
from backup_flows import keys
from backup_flows.tasks import base
from backup_flows.tasks import image
from backup_flows.tasks import repository
from backup_flows.tasks import server
from backup_flows.tasks import snapshot_set
from backup_flows.tasks import volume

MODULES = (image, repository, server, snapshot_set, volume)
# Reverts that call no cloud and open no repository (they release a lock
# this process holds).
LOCAL_REVERTS = {'HoldRepositoryLock'}


def reverting_tasks():
    """Every task class of backup_flows.tasks that defines a revert."""
    found = {}
    for module in MODULES:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, base.BackupFlowsTask) and
                    cls.__module__ == module.__name__ and
                    not cls.__name__.startswith('_') and
                    cls.__name__ not in LOCAL_REVERTS and
                    cls.revert is not task.Task.revert):
                found[cls.__qualname__] = cls
    return found


class Unavailable:
    """A connection whose every proxy call fails as a cloud outage does."""

    def __getattr__(self, name):
        return Unavailable()

    def __call__(self, *args, **kwargs):
        raise sdk_exc.HttpException('503 Service Unavailable')


def call_revert(task):
    """Call task.revert with a value for every argument it requires."""
    params = inspect.signature(task.revert).parameters
    args = {name: mock.MagicMock(name=name) for name, p in params.items()
            if p.kind is p.POSITIONAL_OR_KEYWORD and name != 'result'}
    if 'server_state' in args:
        # the state a power change undoes
        args['server_state'] = {'status': task.from_status}
    return task.revert('some-id', **args)


class TestRevertsNeverRaise(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf.CONF([], project='backup-flows', default_config_files=[])

    def test_the_tasks_with_a_revert_are_found(self):
        self.assertGreaterEqual(len(reverting_tasks()), 11,
                                sorted(reverting_tasks()))

    def test_connect_failing(self):
        self.useFixture(fixtures.MockPatch(
            'backup_flows.clients.connect',
            side_effect=sdk_exc.SDKException('cloud unreachable')))
        for name, cls in reverting_tasks().items():
            result = call_revert(cls(name='t-' + name))
            self.assertIn(keys.REVERT_FAILED, result, name)

    def test_every_cloud_call_failing(self):
        self.useFixture(fixtures.MockPatch(
            'backup_flows.clients.connect', return_value=Unavailable()))
        self.useFixture(fixtures.MockPatch(
            'backup_flows.repository.open_repository',
            side_effect=OSError('repository unreachable')))
        for name, cls in reverting_tasks().items():
            result = call_revert(cls(name='t-' + name))
            self.assertIsInstance(result, dict, name)
            self.assertIn(keys.REVERT_FAILED, result, name)

    def test_injected_revert_failure_skips_the_body(self):
        cls = reverting_tasks()['CreateServerImage']
        self.addCleanup(conf.CONF.clear_override, 'fail_revert_of_task',
                        group='fault_injection')
        conf.CONF.set_override('fail_revert_of_task', 'create-root',
                               group='fault_injection')
        with mock.patch('backup_flows.clients.connect') as connect:
            result = call_revert(cls(name='create-root'))
        connect.assert_not_called()
        self.assertEqual(
            'InjectedFailure: failure injected in the revert of task '
            'create-root', result[keys.REVERT_FAILED])

    def test_a_successful_revert_returns_what_it_returns(self):
        class Undo(base.BackupFlowsTask):
            def execute(self):
                return 1

            def revert(self, result, **kwargs):
                return 'undone'

        self.assertEqual('undone', Undo(name='undo').revert(1))
        self.assertEqual(['result', 'kwargs'], list(
            inspect.signature(Undo.revert).parameters)[1:])
