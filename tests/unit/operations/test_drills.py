"""operations/drills.py: a drill is one job; its failures say so."""

import fixtures
import testtools

from backup_flows import conf
from backup_flows import exceptions
from backup_flows import keys
from backup_flows.operations import drills

PLANNED = {'cloud': None, 'disks': [{'disk': 'vda'}],
           'server': {'name': 'drill-b1'}}
DRILL = {'server_id': 's1', 'disks': [], 'cleaned_up': True}
VERIFIED = {'id': 'b1', 'deep': False, 'ok': True, 'problems': []}


class DrillTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf.CONF([], project='backup-flows', default_config_files=[])
        self.useFixture(fixtures.MockPatch(
            'backup_flows.operations.backups.open_repository'))
        self.plan = self.useFixture(fixtures.MockPatch(
            'backup_flows.operations.restores.plan',
            return_value=PLANNED)).mock
        self.run_flow = self.useFixture(fixtures.MockPatch(
            'backup_flows.engine.run_flow')).mock
        self.run_flow.return_value = ('job-1', {
            keys.RESULT: DRILL, keys.VERIFICATION: VERIFIED})

    def test_verify_and_drill_run_as_one_job(self):
        result = drills.verify('b1', url='/repo')
        self.assertEqual(dict(VERIFIED, job_id=mock_job(self),
                              drill=dict(DRILL, job_id=mock_job(self))),
                         result)
        name, args, store = self.run_flow.call_args[0]
        self.assertEqual(keys.FLOW_BACKUP_DRILL, name)
        self.assertEqual('quick', args['verify'])
        self.assertEqual('drill-b1', self.plan.call_args[1]['server_name'])
        self.assertEqual({keys.CLOUD, keys.JOB_ID, keys.BACKUP_ID,
                          keys.REPOSITORY_URL}, set(store))
        self.assertEqual(self.run_flow.call_args[1]['job_id'],
                         store[keys.JOB_ID])

    def test_differences_fail_the_drill_with_its_message(self):
        self.run_flow.side_effect = exceptions.DrillDisksDiffer(
            disks='vda', details='vda: expected x, got y')
        error = self.assertRaises(exceptions.BackupFlowsError, drills.run,
                                  'b1')
        self.assertEqual('Drill of backup b1 failed: the restored disks vda '
                         'differ from the backup (vda: expected x, got y)',
                         str(error))
        self.assertEqual(exceptions.EXIT_FAILED, error.exit_code)

    def test_a_flow_failure_names_its_reason(self):
        self.run_flow.side_effect = exceptions.FlowFailed(
            flow='backup-drill', job_id='j', reason='boom')
        error = self.assertRaises(exceptions.BackupFlowsError, drills.run,
                                  'b1')
        self.assertEqual('Drill of backup b1 failed: boom', str(error))

    def test_a_damaged_backup_keeps_its_own_error(self):
        self.run_flow.side_effect = exceptions.BackupDamaged(
            backup_id='b1', disks='vda', details='bad')
        self.assertRaises(exceptions.BackupDamaged, drills.verify, 'b1')

    def test_planning_errors_keep_their_exit_code(self):
        self.plan.side_effect = exceptions.InvalidInput(reason='no flavor')
        error = self.assertRaises(exceptions.BackupFlowsError, drills.run,
                                  'b1')
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)
        self.assertIn('Drill of backup b1 failed: Invalid input', str(error))
        self.run_flow.assert_not_called()


def mock_job(test):
    return test.run_flow.call_args[0][2][keys.JOB_ID]
