"""The shared lock a backup flow holds from its first write to its commit
(tasks/repository.py: HoldRepositoryLock, hold_flow_lock, CommitBackup)."""

import datetime
import io
import os

import fixtures
import testtools

from backup_flows import conf
from backup_flows import exceptions
from backup_flows import repository
from backup_flows.repository import locks
from backup_flows.tasks import repository as repo_tasks

CONF = conf.CONF
JOB = 'job-1'


class RepositoryTaskTestCase(testtools.TestCase):
    """A file repository under a temporary directory; ``commit`` backs
    bytes up through the tasks as a backup flow does."""

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        CONF([], project='backup-flows', default_config_files=[])
        for option, value in (('lock_wait', 0), ('lock_ttl', 30),
                              ('prune_grace', 0)):
            CONF.set_override(option, value, group='repository')
            self.addCleanup(CONF.clear_override, option, group='repository')
        self.url = os.path.join(tmp, 'repo')
        repository.init_repository(CONF, url=self.url).close()
        self.addCleanup(repo_tasks.release_flow_lock, JOB)

    def repo(self):
        repo = repository.open_repository(CONF, url=self.url)
        self.addCleanup(repo.close)
        return repo

    def lock_document(self):
        return locks.read_lock(self.repo().backend,
                               repo_tasks.flow_lock_name(JOB))

    def written(self, data):
        with self.repo().start_backup() as session:
            session.write_disk('vda', io.BytesIO(data))
            record = session.disk_record('vda')
            session.release()
        return {'record': record, 'new_bytes': 0, 'stored_bytes': 0,
                'zero_bytes': 0}

    def commit(self, data):
        meta = {'created_at': datetime.datetime.now(
            datetime.timezone.utc).isoformat()}
        task = repo_tasks.CommitBackup(name='commit-backup')
        return task.execute(self.url, '20260101T000000.000000Z-00000001',
                            'srv', meta, ['vda'], job_id=JOB,
                            written_vda=self.written(data))


class FlowLockTestCase(RepositoryTaskTestCase):

    def test_prune_cannot_run_while_the_flow_holds_it(self):
        task = repo_tasks.HoldRepositoryLock(name='hold-repository-lock')
        task.execute(self.url, JOB)
        document = self.lock_document()
        self.assertEqual(locks.SHARED, document['kind'])
        self.assertEqual('backup job %s' % JOB, document['owner'])
        error = self.assertRaises(exceptions.RepositoryLocked,
                                  self.repo().prune)
        self.assertIn('backup job %s' % JOB, str(error))
        # Taking it again (a later task of the flow) keeps the one lock.
        repo_tasks.hold_flow_lock(self.url, JOB)
        self.assertEqual(document['id'], self.lock_document()['id'])
        task.revert(None, job_id=JOB)
        self.assertIsNone(self.lock_document())
        self.repo().prune()
        task.revert(None, job_id=JOB)

    def test_the_commit_releases_it(self):
        repo_tasks.hold_flow_lock(self.url, JOB)
        data = os.urandom(50000)
        backup_id = self.commit(data)
        self.assertIsNone(self.lock_document())
        self.assertEqual(data, b''.join(self.repo().read_disk(backup_id,
                                                              'vda')))

    def test_a_resumed_flow_takes_it_again(self):
        repo_tasks.hold_flow_lock(self.url, JOB)
        first = self.lock_document()
        # The process dies: its lock stays until it goes stale, and the
        # new process knows nothing of it.
        _, lock = repo_tasks._flow_locks.pop(JOB)
        lock._stop.set()
        lock._thread.join()
        self.assertRaises(exceptions.RepositoryLocked, self.repo().prune)
        # The resumed flow's first task (a write or the commit) takes it.
        repo_tasks.hold_flow_lock(self.url, JOB)
        second = self.lock_document()
        self.assertNotEqual(first['id'], second['id'])
        self.assertGreaterEqual(second['refreshed_at'],
                                first['refreshed_at'])
        self.assertRaises(exceptions.RepositoryLocked, self.repo().prune)
        self.commit(os.urandom(20000))
        self.assertIsNone(self.lock_document())

    def test_a_lost_lock_is_taken_again(self):
        repo_tasks.hold_flow_lock(self.url, JOB)
        # Judged stale by someone (the holder was suspended) and removed.
        self.repo().backend.delete(repo_tasks.flow_lock_name(JOB))
        repo_tasks.hold_flow_lock(self.url, JOB)
        self.assertIsNotNone(self.lock_document())
