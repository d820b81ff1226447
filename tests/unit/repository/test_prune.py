"""Retention, garbage collection and copies between repositories."""

import datetime
import io

import testtools

from backup_flows import exceptions
from backup_flows.repository import Policy
from backup_flows.repository import retention

from tests.unit.repository import base

UTC = datetime.timezone.utc


def at(day, hour=0, month=1, year=2026):
    return datetime.datetime(year, month, day, hour, tzinfo=UTC)


class RetentionTest(testtools.TestCase):

    def test_rules_per_server(self):
        backups = [('a-%02d-%02d' % (d, h), 'a', at(d, h))
                   for d in range(1, 11) for h in (1, 13)]
        backups += [('b-1', 'b', at(1)), ('b-2', 'b', at(2))]
        keep, forget = retention.select(backups, Policy(keep_last=3,
                                                        daily=5))
        kept_a = sorted(k for k in keep if k.startswith('a'))
        # The 3 newest, plus the newest of each of the 5 newest days.
        self.assertEqual(['a-06-13', 'a-07-13', 'a-08-13', 'a-09-13',
                          'a-10-01', 'a-10-13'], kept_a)
        self.assertEqual(['daily', 'last'], sorted(keep['a-10-13']))
        self.assertEqual(['last'], keep['a-10-01'])
        # Server b is judged on its own backups.
        self.assertIn('b-1', keep)
        self.assertIn('b-2', keep)
        self.assertEqual(len(backups) - len(keep), len(forget))

    def test_weekly_monthly_yearly(self):
        backups = [('y%d-m%02d' % (y, m), 's', at(1, month=m, year=y))
                   for y in (2024, 2025, 2026) for m in range(1, 13)]
        keep, _ = retention.select(backups, Policy(monthly=2, yearly=3))
        self.assertEqual({'y2026-m12': ['monthly', 'yearly'],
                          'y2026-m11': ['monthly'],
                          'y2025-m12': ['yearly'],
                          'y2024-m12': ['yearly']}, keep)
        keep, _ = retention.select(backups, Policy(weekly=1, hourly=1))
        self.assertEqual(['y2026-m12'], list(keep))

    def test_empty_policy_keeps_everything(self):
        keep, forget = retention.select([('x', 's', at(1))], Policy())
        self.assertEqual({'x': ['all']}, keep)
        self.assertEqual([], forget)


class GarbageCollectionTest(base.RepositoryTestCase):

    def commit(self, repo, server, data, when):
        with repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(data))
            return session.commit(server, created_at=when)

    def test_prune_frees_only_unreferenced_data(self):
        repo = self.make_repo()
        common = base.disk_bytes(50, 150000, zeros=0)
        datas = [common + base.disk_bytes(51 + i, 100000, zeros=0)
                 for i in range(4)]
        ids = [self.commit(repo, 'srv', d, at(i + 1))
               for i, d in enumerate(datas)]
        before = repo.stats()
        dry = repo.prune(Policy(keep_last=2), dry_run=True)
        self.assertEqual(ids[:2], dry['forgotten'])
        self.assertEqual(before, repo.stats())
        result = repo.prune(Policy(keep_last=2))
        self.assertEqual(ids[:2], result['forgotten'])
        self.assertGreater(result['bytes_freed'], 0)
        after = repo.stats()
        self.assertEqual(2, after['backups'])
        self.assertLess(after['stored_bytes'], before['stored_bytes'])
        # The shared first part survived with the kept backups.
        for backup_id, data in zip(ids[2:], datas[2:], strict=True):
            self.assertEqual(data, self.read(repo, backup_id, 'vda'))
        report = repo.check(deep=True)
        self.assertTrue(report['ok'], report)
        self.assertEqual(0, report['unreferenced_packs'])
        # Pruning again changes nothing.
        again = repo.prune(Policy(keep_last=2))
        self.assertEqual(([], 0, 0), (again['forgotten'],
                                      again['packs_deleted'],
                                      again['packs_repacked']))

    def test_partly_used_packs_are_repacked(self):
        # One big pack shared by two backups: forgetting one repacks it.
        repo = self.make_repo(pack_size=4 << 20)
        first = base.disk_bytes(60, 200000, zeros=0)
        second = base.disk_bytes(61, 200000, zeros=0)
        both = self.commit(repo, 'srv', first + second, at(1))
        only = self.commit(repo, 'srv', second, at(2))
        result = repo.prune(Policy(keep_last=1))
        self.assertEqual([both], result['forgotten'])
        self.assertEqual(1, result['packs_repacked'])
        self.assertEqual(second, self.read(repo, only, 'vda'))
        self.assertTrue(repo.check(deep=True)['ok'])
        self.assertLess(repo.stats()['stored_bytes'], 250000)

    def test_forget_unknown_backup(self):
        repo = self.make_repo()
        self.assertRaises(exceptions.BackupNotFound, repo.forget, ['nope'])


class CopyTest(base.RepositoryTestCase):

    def test_copy_moves_only_missing_chunks(self):
        source = self.make_repo('source')
        target = self.make_repo('target')
        common = base.disk_bytes(70, 200000)
        first = self.backup(source, {'vda': common}, server='s1',
                            metadata={'flavor': 'm1.small'})
        second = self.backup(source, {
            'vda': common + base.disk_bytes(71, 50000)}, server='s1')
        result = source.copy_backup(first, target)
        self.assertGreater(result['bytes_copied'], 0)
        result = source.copy_backup(second, target)
        self.assertLess(result['bytes_copied'], 80000)
        self.assertEqual(source.show_backup(first), target.show_backup(first))
        for backup_id in (first, second):
            self.assertEqual(self.read(source, backup_id, 'vda'),
                             self.read(target, backup_id, 'vda'))
        self.assertRaises(exceptions.RepositoryError, source.copy_backup,
                          first, target)

    def test_copy_into_encrypted_repository(self):
        source = self.make_repo('source')
        target = self.make_repo('target', encrypted=True)
        data = base.disk_bytes(72, 150000)
        backup_id = self.backup(source, {'vda': data, 'vdb': b''})
        source.copy_backup(backup_id, target)
        self.assertEqual(data, self.read(target, backup_id, 'vda'))
        self.assertEqual(b'', self.read(target, backup_id, 'vdb'))
        # Chunk ids differ (keyed in the target) but the disk is the same.
        self.assertNotEqual(self.disk_chunks(source, backup_id),
                            self.disk_chunks(target, backup_id))
        self.assertEqual(
            [length for _, length in self.disk_chunks(source, backup_id)],
            [length for _, length in self.disk_chunks(target, backup_id)])
        self.assertTrue(target.check(deep=True)['ok'])
