"""Flows of the repository and snapshot maintenance operations: verify,
delete and prune backups, expire snapshot sets."""

import testtools

from backup_flows import keys
from backup_flows.flows import backup
from backup_flows.flows import expire
from backup_flows.flows import prune
from backup_flows.flows import verify

from tests import flowutils

POLICY = {'keep_last': 2, 'hourly': 0, 'daily': 7, 'weekly': 0,
          'monthly': 0, 'yearly': 0}


def _names(flow):
    return [atom.name for atom in flowutils.atoms(flow)]


def _provided(flow):
    return {key for atom in flowutils.atoms(flow) for key in atom.provides}


class VerifyFlowTestCase(testtools.TestCase):

    def test_shape_requires_and_provides(self):
        flow = verify.get_flow(deep=True)
        self.assertEqual(keys.FLOW_BACKUP_VERIFY, flow.name)
        self.assertEqual(['verify-backup-data'], _names(flow))
        self.assertEqual({'repository_url', 'backup_id'}, set(flow.requires))
        self.assertEqual({keys.RESULT}, _provided(flow))
        self.assertEqual({'deep': True},
                         next(flowutils.atoms(flow)).inject)


class DeleteFlowTestCase(testtools.TestCase):

    def test_shape_requires_and_provides(self):
        flow = backup.get_delete_flow()
        self.assertEqual(keys.FLOW_BACKUP_DELETE, flow.name)
        self.assertEqual(['forget-backup'], _names(flow))
        self.assertEqual({'repository_url', 'backup_id'}, set(flow.requires))
        self.assertEqual({keys.RESULT}, _provided(flow))


class PruneFlowTestCase(testtools.TestCase):

    def test_shape_requires_and_provides(self):
        flow = prune.get_flow(POLICY, server_id='srv-1', dry_run=True)
        self.assertEqual(keys.FLOW_BACKUP_PRUNE, flow.name)
        self.assertEqual(['prune-repository'], _names(flow))
        self.assertEqual({'repository_url'}, set(flow.requires))
        self.assertEqual({keys.RESULT}, _provided(flow))
        self.assertEqual({'policy': POLICY, 'server_id': 'srv-1',
                          'dry_run': True},
                         next(flowutils.atoms(flow)).inject)


class ExpireFlowTestCase(testtools.TestCase):

    SETS = [{'set_id': 's1', 'image_ids': ['i1'], 'snapshot_ids': ['v1']},
            {'set_id': 's2', 'image_ids': [], 'snapshot_ids': ['v2', 'v3']}]

    def test_one_delete_sub_flow_per_set_in_turn(self):
        flow = expire.get_flow(self.SETS)
        self.assertEqual(keys.FLOW_SNAPSHOT_EXPIRE, flow.name)
        names = _names(flow)
        self.assertEqual('mark-set-deleting-s1', names[0])
        self.assertEqual({'delete-image-i1', 'delete-volume-snapshot-v1'},
                         set(names[1:3]))
        self.assertEqual('mark-set-deleting-s2', names[3])
        self.assertEqual({'delete-volume-snapshot-v2',
                          'delete-volume-snapshot-v3'}, set(names[4:]))
        self.assertEqual(len(names), len(set(names)))

    def test_each_set_id_is_injected_only_the_cloud_required(self):
        flow = expire.get_flow(self.SETS)
        self.assertEqual({'cloud'}, set(flow.requires))
        marks = [a for a in flowutils.atoms(flow)
                 if a.name.startswith('mark-set-deleting')]
        self.assertEqual([{'set_id': 's1'}, {'set_id': 's2'}],
                         [a.inject for a in marks])
