"""operations/backups.py: verify, delete and prune run as jobs."""

import os

from backup_flows import engine
from backup_flows import exceptions
from backup_flows import keys
from backup_flows import repository
from backup_flows.operations import backups

from tests.unit.tasks import test_backup


class BackupJobsTestCase(test_backup.RepositoryTaskTestCase):

    def setUp(self):
        super().setUp()
        state = os.path.join(os.path.dirname(self.url), 'state')
        test_backup.CONF.set_override('state_path', state)
        self.addCleanup(test_backup.CONF.clear_override, 'state_path')

    def jobs(self):
        return [(job.flow, job.state) for job in engine.list_jobs()]

    def test_verify_is_a_job_returning_its_result(self):
        backup_id = self.backup()
        result = backups.verify(backup_id, url=self.url, deep=True)
        job = engine.get_job(result.pop('job_id'))
        self.assertEqual({'id': backup_id, 'deep': True, 'ok': True,
                          'problems': []}, result)
        self.assertEqual((keys.FLOW_BACKUP_VERIFY, 'SUCCESS',
                          {'deep': True}),
                         (job.flow, job.state, job.to_dict()['args']))

    def test_verify_of_a_damaged_backup_raises_backup_damaged(self):
        backup_id = self.backup()
        self.damage_packs()
        error = self.assertRaises(exceptions.BackupDamaged, backups.verify,
                                  backup_id, url=self.url)
        self.assertIn('is damaged: disks vda', str(error))
        self.assertEqual([(keys.FLOW_BACKUP_VERIFY, 'REVERTED')],
                         self.jobs())

    def test_verify_of_an_unknown_backup_starts_no_job(self):
        self.assertRaises(exceptions.BackupNotFound, backups.verify,
                          'nope', url=self.url)
        self.assertEqual([], self.jobs())

    def test_delete_is_a_job(self):
        backup_id = self.backup()
        result = backups.delete(backup_id, url=self.url)
        self.assertEqual({'id': backup_id, 'status': 'deleted'},
                         {k: result[k] for k in ('id', 'status')})
        self.assertEqual(keys.FLOW_BACKUP_DELETE,
                         engine.get_job(result['job_id']).flow)
        self.assertEqual([], self.backup_ids())

    def test_delete_of_an_unknown_backup_starts_no_job(self):
        error = self.assertRaises(exceptions.BackupNotFound, backups.delete,
                                  'nope', url=self.url)
        self.assertIn('Backup nope not found in repository', str(error))
        self.assertEqual([], self.jobs())

    def test_prune_is_a_job_and_dry_run_changes_nothing(self):
        first = self.backup(b'a' * 40000)
        second = self.backup(b'b' * 40000)
        policy = repository.Policy(keep_last=1)
        dry = backups.prune(policy, url=self.url, dry_run=True)
        self.assertEqual(([first], True), (dry['forgotten'], dry['dry_run']))
        self.assertEqual([first, second], self.backup_ids())
        done = backups.prune(policy, url=self.url)
        self.assertEqual([first], done['forgotten'])
        self.assertEqual([second], self.backup_ids())
        self.assertEqual([(keys.FLOW_BACKUP_PRUNE, 'SUCCESS')] * 2,
                         self.jobs())
        self.assertEqual(
            {'policy': {'keep_last': 1, 'hourly': 0, 'daily': 0,
                        'weekly': 0, 'monthly': 0, 'yearly': 0},
             'server_id': None, 'dry_run': False},
            engine.get_job(done['job_id']).to_dict()['args'])

    def test_prune_without_rules_is_refused_before_any_job(self):
        self.assertRaises(exceptions.InvalidInput, backups.prune,
                          repository.Policy(), url=self.url)
        self.assertEqual([], self.jobs())
