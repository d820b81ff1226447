"""tasks/backup.py: verify, forget and prune backups of a repository."""

import io
import os

import fixtures
import testtools

from backup_flows import conf
from backup_flows import exceptions
from backup_flows import repository
from backup_flows.tasks import backup as backup_tasks

CONF = conf.CONF

NO_RULES = {'keep_last': 0, 'hourly': 0, 'daily': 0, 'weekly': 0,
            'monthly': 0, 'yearly': 0}


class RepositoryTaskTestCase(testtools.TestCase):
    """A real repository in a temporary directory, holding backups."""

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        CONF([], project='backup-flows', default_config_files=[])
        CONF.set_override('prune_grace', 0, group='repository')
        self.addCleanup(CONF.clear_override, 'prune_grace',
                        group='repository')
        self.url = os.path.join(tmp, 'repo')
        repository.init_repository(CONF, url=self.url).close()

    def backup(self, data=b'disk bytes ' * 5000, server='srv-1'):
        with repository.open_repository(CONF, url=self.url) as repo:
            with repo.start_backup() as session:
                session.write_disk('vda', io.BytesIO(data))
                return session.commit(server, {'name': server})

    def backup_ids(self):
        with repository.open_repository(CONF, url=self.url) as repo:
            return repo.backup_ids()

    def damage_packs(self):
        packs = os.path.join(self.url, 'packs')
        for folder, _, files in os.walk(packs):
            for name in files:
                os.remove(os.path.join(folder, name))


class VerifyBackupDataTestCase(RepositoryTaskTestCase):

    def task(self):
        return backup_tasks.VerifyBackupData(name='verify-backup-data')

    def test_a_good_backup_passes_quick_and_deep(self):
        backup_id = self.backup()
        for deep in (False, True):
            self.assertEqual(
                {'id': backup_id, 'deep': deep, 'ok': True, 'problems': []},
                self.task().execute(self.url, backup_id, deep=deep))

    def test_a_damaged_backup_raises_naming_its_disks(self):
        backup_id = self.backup()
        self.damage_packs()
        error = self.assertRaises(exceptions.BackupDamaged,
                                  self.task().execute, self.url, backup_id)
        self.assertIn('Backup %s is damaged: disks vda (vda: ' % backup_id,
                      str(error))

    def test_provides_the_result(self):
        self.assertEqual({'result'}, set(self.task().provides))

    def test_revert_undoes_nothing(self):
        self.assertFalse(hasattr(
            backup_tasks.VerifyBackupData.revert, '__wrapped__'))


class ForgetBackupTestCase(RepositoryTaskTestCase):

    def test_forgets_the_backup(self):
        backup_id = self.backup()
        task = backup_tasks.ForgetBackup(name='forget-backup')
        self.assertEqual({'id': backup_id, 'status': 'deleted'},
                         task.execute(self.url, backup_id))
        self.assertEqual([], self.backup_ids())

    def test_run_again_after_a_crash_it_is_done(self):
        backup_id = self.backup()
        task = backup_tasks.ForgetBackup(name='forget-backup')
        task.execute(self.url, backup_id)
        self.assertEqual({'id': backup_id, 'status': 'deleted'},
                         task.execute(self.url, backup_id))


class PruneRepositoryTestCase(RepositoryTaskTestCase):

    def task(self):
        return backup_tasks.PruneRepository(name='prune-repository')

    def test_keeps_by_policy_and_forgets_the_rest(self):
        first = self.backup(b'a' * 40000)
        second = self.backup(b'b' * 40000)
        result = self.task().execute(self.url,
                                     dict(NO_RULES, keep_last=1))
        self.assertEqual([first], result['forgotten'])
        self.assertEqual([second], list(result['kept']))
        self.assertEqual([second], self.backup_ids())

    def test_dry_run_changes_nothing(self):
        first = self.backup(b'a' * 40000)
        second = self.backup(b'b' * 40000)
        listing = sorted(os.walk(self.url))
        result = self.task().execute(self.url, dict(NO_RULES, keep_last=1),
                                     dry_run=True)
        self.assertEqual(([first], True), (result['forgotten'],
                                           result['dry_run']))
        self.assertEqual([first, second], self.backup_ids())
        self.assertEqual(listing, sorted(os.walk(self.url)))

    def test_only_the_server_given(self):
        mine = self.backup(b'a' * 40000, server='srv-1')
        self.backup(b'b' * 40000, server='srv-2')
        self.backup(b'c' * 40000, server='srv-1')
        result = self.task().execute(self.url, dict(NO_RULES, keep_last=1),
                                     server_id='srv-1')
        self.assertEqual([mine], result['forgotten'])

    def test_a_second_run_finds_nothing_more(self):
        self.backup(b'a' * 40000)
        self.backup(b'b' * 40000)
        self.task().execute(self.url, dict(NO_RULES, keep_last=1))
        again = self.task().execute(self.url, dict(NO_RULES, keep_last=1))
        self.assertEqual([], again['forgotten'])
