"""Running real flows against tests.unit.fake_cloud in unit tests.

A flow is loaded into a serial engine with in-memory persistence, a
CaptureListener records what its tasks did, and the assertions check the
order of executes and reverts and that the store holds plain JSON only.
"""

import json

import fixtures
from taskflow import engines
from taskflow import exceptions as tf_exc
from taskflow import states
from taskflow.listeners import capturing

from backup_flows import conf
from backup_flows.tasks import repository as repo_tasks

from tests import flowutils
from tests.unit import fake_cloud
from tests.unit import fake_sdk

JOB = '11111111-2222-3333-4444-555555555555'


class Run:
    """What one engine run did: task names by outcome, in order."""

    def __init__(self, engine, values):
        self.engine = engine
        self.values = [(details['task_name'], state)
                       for _, state, details in values]

    def named(self, state):
        return [name for name, got in self.values if got == state]

    @property
    def executed(self):
        return self.named(states.SUCCESS)

    @property
    def failed(self):
        return self.named(states.FAILURE)

    @property
    def reverted(self):
        return self.named(states.REVERTED)


class FlowRunTestCase(fake_sdk.ConnectedTestCase):
    """A fake cloud (``self.cloud``) behind ``clients.connect``; waits
    never sleep; repository locks do not wait."""

    def setUp(self):
        super().setUp()
        self.cloud = fake_cloud.FakeCloud(self.conn)
        self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.waits.time.sleep'))
        for option, value in (('lock_wait', 0), ('prune_grace', 0)):
            conf.CONF.set_override(option, value, group='repository')
            self.addCleanup(conf.CONF.clear_override, option,
                            group='repository')
        # a failed test leaves no lock refreshed by its thread
        self.addCleanup(repo_tasks.release_flow_lock, JOB)

    def run_flow(self, flow, store, fails=None):
        """Run ``flow``; with ``fails`` (an exception type), expect it to
        fail with that and return the Run either way."""
        engine = engines.load(flow, store=store, engine='serial')
        with capturing.CaptureListener(engine, capture_flow=False) as cap:
            if fails:
                self.assertRaises(fails, engine.run)
            else:
                engine.run()
        return Run(engine, cap.values)

    def assertOrder(self, names, *chains):
        """``names`` are those of ``chains``, each chain in its order (the
        branches of an unordered flow are separate chains)."""
        self.assertEqual(sorted({n for chain in chains for n in chain}),
                         sorted(names))
        self.assertEqual(len(set(names)), len(names), names)
        for chain in chains:
            self.assertEqual(list(chain), [n for n in names if n in chain])

    def assertRevertedNewestFirst(self, run, *chains):
        """The failed task and every task executed before it reverted, each
        chain newest first."""
        self.assertEqual(1, len(run.failed), run.values)
        done = set(run.executed) | set(run.failed)
        self.assertOrder(run.reverted,
                         *[[n for n in reversed(chain) if n in done]
                           for chain in chains])

    def assertPlainStore(self, run, flow):
        """Every store value and every atom result is plain JSON."""
        storage = run.engine.storage
        for key, value in storage.fetch_all().items():
            self.assertJSON(value, key)
        for atom in flowutils.atoms(flow):
            try:
                result = storage.get(atom.name)
            except tf_exc.NotFound:
                continue
            self.assertJSON(result, atom.name)

    def assertJSON(self, value, what):
        try:
            text = json.dumps(value)
        except TypeError as exc:
            self.fail('%s: %r is not plain JSON: %s' % (what, value, exc))
        self.assertEqual(value, json.loads(text), what)
        # Small values only: nothing that grows with a disk's size.
        self.assertLess(len(text), 16 << 10, what)
