"""backup_flows.operations.cleanup: which tagged resources are leftovers."""

import datetime
from unittest import mock

import fixtures
import testtools

from backup_flows import keys
from backup_flows.operations import cleanup

JOB = '11111111-2222-3333-4444-%012d'


def job(n, flow, state, age_s=3600):
    stamp = (datetime.datetime.now(datetime.timezone.utc) -
             datetime.timedelta(seconds=age_s)).isoformat(timespec='seconds')
    return mock.Mock(id=JOB % n, flow=flow, state=state,
                     meta={'updated_at': stamp})


def res(kind, ident, n, **extra):
    return dict({'kind': kind, 'id': ident, 'name': ident,
                 'job_id': JOB % n}, **extra)


class TestLeftovers(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.jobs = [
            job(1, keys.FLOW_SNAPSHOT_CREATE, 'SUCCESS'),
            job(2, keys.FLOW_SNAPSHOT_CREATE, 'REVERTED'),
            job(3, keys.FLOW_BACKUP_CREATE, 'SUCCESS'),
            job(4, keys.FLOW_RESTORE, 'SUCCESS'),
            job(5, keys.FLOW_BACKUP_CREATE, 'RUNNING'),
            job(6, keys.FLOW_BACKUP_CREATE, 'INTERRUPTED'),
            job(7, 'some-future-flow', 'SUCCESS'),
            job(8, keys.FLOW_BACKUP_CREATE, 'FAILURE', age_s=60),
            job(9, keys.FLOW_SNAPSHOT_ROLLBACK, 'SUCCESS'),
        ]
        self.resources = [
            res('image', 'set-image-1', 1, set_member=True),
            res('snapshot', 'set-snap-1', 1, set_member=True),
            res('image', 'set-image-2', 2, set_member=True),
            res('image', 'transient-3', 3, set_member=True),
            res('volume', 'export-3', 3),
            res('server', 'restored-4', 4, image_id='root-image-4',
                volume_ids=['volume-4']),
            res('volume', 'volume-4', 4),
            res('image', 'root-image-4', 4),
            res('image', 'volume-image-4', 4),
            res('volume', 'export-5', 5),
            res('volume', 'export-6', 6),
            res('image', 'unknown-7', 7),
            res('volume', 'export-8', 8),
            res('image', 'no-such-job', 99),
            res('image', 'safety-image-9', 9, set_member=True),
            res('volume', 'safety-volume-9', 9),
        ]
        self.useFixture(fixtures.MockPatch(
            'backup_flows.engine.list_jobs', return_value=self.jobs))
        self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.resources.tagged',
            return_value=self.resources))

    def ids(self, **kwargs):
        return [r['id'] for r in cleanup.leftovers(mock.sentinel.conn,
                                                   **kwargs)]

    def test_leftovers_of_finished_jobs_only(self):
        self.assertEqual(['export-3', 'export-8', 'safety-volume-9',
                          'set-image-2', 'transient-3', 'volume-image-4'],
                         sorted(self.ids()))

    def test_servers_first_images_last(self):
        kinds = [r['kind'] for r in cleanup.leftovers(mock.sentinel.conn)]
        self.assertEqual(sorted(kinds, key=('server', 'volume', 'snapshot',
                                            'image').index), kinds)

    def test_older_than(self):
        self.assertEqual(
            ['export-3', 'safety-volume-9', 'set-image-2', 'transient-3',
             'volume-image-4'],
            sorted(self.ids(older_than=datetime.timedelta(minutes=10))))
        self.assertEqual([], self.ids(older_than=datetime.timedelta(days=1)))

    def test_dry_run_deletes_nothing(self):
        self.useFixture(fixtures.MockPatch(
            'backup_flows.clients.check_cloud'))
        delete = self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.resources.delete')).mock
        rows = cleanup.cleanup(dry_run=True)
        delete.assert_not_called()
        self.assertEqual({'would be deleted'}, {r['result'] for r in rows})

    def test_a_failed_delete_is_reported_and_the_rest_goes_on(self):
        self.useFixture(fixtures.MockPatch(
            'backup_flows.clients.check_cloud'))
        self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.resources.delete',
            side_effect=[RuntimeError('busy'), None, None, None, None,
                         None]))
        rows = cleanup.cleanup()
        self.assertEqual(['not deleted: busy'] + ['deleted'] * 5,
                         [r['result'] for r in rows])
