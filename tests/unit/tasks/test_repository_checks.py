"""The repository tasks that check or undo a backup: CommitBackup's revert,
VerifyBackup on a damaged backup, and the restore flow's CheckBackup."""

import glob
import os

from backup_flows import exceptions
from backup_flows.flows import restore as restore_flow
from backup_flows.tasks import repository as repo_tasks

from tests.unit.tasks import test_flow_lock

BACKUP = '20260101T000000.000000Z-00000001'
DATA = os.urandom(3 * 2 ** 20)


class RepositoryChecksTestCase(test_flow_lock.RepositoryTaskTestCase):

    def setUp(self):
        super().setUp()
        self.assertEqual(BACKUP, self.commit(DATA))

    def manifest_exists(self):
        with self.repo() as repo:
            return repo_tasks._manifest_exists(repo, BACKUP)

    def delete_packs(self):
        packs = glob.glob(os.path.join(self.url, 'packs', '*', '*'))
        self.assertTrue(packs)
        for pack in packs:
            os.unlink(pack)

    def disk(self, **changes):
        with self.repo() as repo:
            stored = repo.show_backup(BACKUP)['disks'][0]
        return dict({'disk': 'vda', 'size': stored['size'],
                     'sha256': stored['sha256']}, **changes)

    def test_commit_revert_forgets_the_backup(self):
        task = repo_tasks.CommitBackup(name='commit-backup')
        self.assertTrue(self.manifest_exists())
        task.revert(BACKUP, repository_url=self.url, backup_id=BACKUP)
        self.assertFalse(self.manifest_exists())
        # again (a revert re-run after a crash): nothing left to forget
        task.revert(BACKUP, repository_url=self.url, backup_id=BACKUP)

    def test_verify_passes_a_whole_backup(self):
        task = repo_tasks.VerifyBackup(name='verify-backup')
        self.assertIsNone(task.execute(self.url, BACKUP))

    def test_verify_fails_a_backup_whose_packs_are_gone(self):
        self.delete_packs()
        task = repo_tasks.VerifyBackup(name='verify-backup')
        error = self.assertRaises(exceptions.RepositoryCorrupted,
                                  task.execute, self.url, BACKUP)
        self.assertIn('backup %s: vda: ' % BACKUP, str(error))
        self.assertIn('damaged chunks, first at offset 0', str(error))

    def test_check_backup_accepts_what_was_planned(self):
        task = restore_flow.CheckBackup(name='check-backup')
        task.execute(self.url, BACKUP, [self.disk()])

    def test_check_backup_refuses_a_changed_disk(self):
        task = restore_flow.CheckBackup(name='check-backup')
        for changed in ({'size': 1}, {'sha256': '0' * 64},
                        {'disk': 'vdz'}):
            error = self.assertRaises(exceptions.RepositoryCorrupted,
                                      task.execute, self.url, BACKUP,
                                      [self.disk(**changed)])
            self.assertIn('changed since the restore was planned',
                          str(error))

    def test_check_backup_refuses_missing_chunks(self):
        for index in glob.glob(os.path.join(self.url, 'index', '*')):
            os.unlink(index)
        task = restore_flow.CheckBackup(name='check-backup')
        error = self.assertRaises(exceptions.RepositoryCorrupted,
                                  task.execute, self.url, BACKUP,
                                  [self.disk()])
        self.assertRegex(str(error), r'\d+ chunks of disk vda of backup '
                                     '%s are missing' % BACKUP)
