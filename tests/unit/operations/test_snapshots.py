"""operations/snapshots.py: expiry runs as one job."""

from unittest import mock

import fixtures
from openstack.image.v2 import image as sdk_image

from backup_flows import keys
from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.operations import snapshots

from tests.unit import fake_sdk


def _set(set_id, expires_at, image_id=None):
    snapshot_set = sets.SnapshotSet(set_id)
    props = {tags.SET_ID: set_id, tags.SERVER_ID: 'srv',
             tags.EXPIRES_AT: expires_at, tags.STATUS: tags.STATUS_AVAILABLE}
    snapshot_set.add_image(sdk_image.Image(id=image_id or 'img-' + set_id,
                                           status='active'), props)
    return snapshot_set


class ExpireTestCase(fake_sdk.ConnectedTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch(
            'backup_flows.clients.check_cloud', return_value=self.conn))
        self.useFixture(fixtures.MockPatch(
            'backup_flows.cloud.snapshot_sets.list_sets',
            return_value=[_set('old', '2000-01-01T00:00:00+00:00'),
                          _set('new', '2999-01-01T00:00:00+00:00')]))
        self.run_flow = self.useFixture(fixtures.MockPatch(
            'backup_flows.engine.run_flow',
            return_value=('job-1', {}))).mock

    def test_expired_sets_are_deleted_by_one_job(self):
        rows = snapshots.expire()
        self.run_flow.assert_called_once_with(
            keys.FLOW_SNAPSHOT_EXPIRE,
            {'sets': [{'set_id': 'old', 'image_ids': ['img-old'],
                       'snapshot_ids': []}]},
            {keys.CLOUD: mock.ANY})
        self.assertEqual([{'id': 'old', 'server_id': 'srv',
                           'expires_at': '2000-01-01T00:00:00+00:00',
                           'action': 'deleted', 'job_id': 'job-1'}], rows)

    def test_dry_run_runs_no_job(self):
        rows = snapshots.expire(dry_run=True)
        self.run_flow.assert_not_called()
        self.assertEqual([('old', 'would delete')],
                         [(r['id'], r['action']) for r in rows])
