"""A resumed job's result, rebuilt from its persisted store and args."""

from unittest import mock

import testtools

from backup_flows import keys
from backup_flows.operations import jobs


def job(flow, **args):
    return mock.Mock(id='job-1', flow=flow, state='SUCCESS', args=args)


class ResultTestCase(testtools.TestCase):

    def test_backup_create_as_the_command(self):
        # the id is given to the flow and provided by commit-backup
        store = {keys.BACKUP_ID: ['b-1', 'b-1'],
                 keys.REPOSITORY_URL: 'file:///r',
                 keys.JOB_ID: 'job-1', keys.SET_ID: 'set-1'}
        with mock.patch('backup_flows.operations.backups.show',
                        return_value={'id': 'b-1'}) as show, \
                mock.patch('backup_flows.operations.backups.'
                           'transient_set_report',
                           return_value={'id': 'set-1'}) as report:
            result = jobs.result(job(keys.FLOW_BACKUP_CREATE), store)
        show.assert_called_once_with('b-1', 'file:///r')
        report.assert_called_once_with('job-1', 'set-1')
        self.assertEqual({'id': 'b-1', 'transient_set': {'id': 'set-1'}},
                         result)

    def test_restore(self):
        disks = [{'disk': 'vda', 'role': 'root-image'},
                 {'disk': 'vdb', 'role': 'volume', 'volume': {}}]
        server = {'name': 'copy', 'flavor_id': 'f-1',
                  'networks': [{'uuid': 'n-1'}], 'availability_zone': 'az',
                  'security_groups': ['default'], 'key_name': None}
        store = {keys.SERVER_ID: 's-1', keys.BACKUP_ID: 'b-1',
                 keys.JOB_ID: 'job-1', keys.CLOUD: 'other',
                 keys.restored_image_key('vda'): 'i-1',
                 keys.restored_volume_key('vdb'): 'v-1'}
        result = jobs.result(job(keys.FLOW_RESTORE, disks=disks,
                                 server=server), store)
        self.assertEqual(
            {'server_id': 's-1', 'server_name': 'copy', 'image_id': 'i-1',
             'volume_ids': ['v-1'], 'backup_id': 'b-1', 'job_id': 'job-1',
             'cloud': 'other', 'flavor': 'f-1', 'networks': ['n-1'],
             'availability_zone': 'az', 'security_groups': ['default'],
             'key_name': None, 'warnings': []}, result)

    def test_repository_jobs_and_drills_add_the_job_id(self):
        for flow in (keys.FLOW_BACKUP_VERIFY, keys.FLOW_BACKUP_DELETE,
                     keys.FLOW_BACKUP_PRUNE, keys.FLOW_BACKUP_DRILL):
            self.assertEqual({'ok': True, 'job_id': 'job-1'},
                             jobs.result(job(flow),
                                         {keys.RESULT: {'ok': True}}))
        self.assertEqual(
            {'ok': True, 'drill': {'server_id': 's', 'job_id': 'job-1'},
             'job_id': 'job-1'},
            jobs.result(job(keys.FLOW_BACKUP_DRILL),
                        {keys.RESULT: {'server_id': 's'},
                         keys.VERIFICATION: {'ok': True}}))

    def test_snapshot_jobs(self):
        self.assertEqual({'id': 'set'}, jobs.result(
            job(keys.FLOW_SNAPSHOT_CREATE), {keys.RESULT: {'id': 'set'}}))
        self.assertEqual({'id': 'set', 'status': 'deleted'}, jobs.result(
            job(keys.FLOW_SNAPSHOT_DELETE), {keys.SET_ID: 'set'}))
        self.assertEqual(
            [{'id': 'set', 'action': 'deleted', 'job_id': 'job-1'}],
            jobs.result(job(keys.FLOW_SNAPSHOT_EXPIRE,
                            sets=[{'set_id': 'set'}]), {}))
        self.assertEqual(
            {'server_id': 's', 'job_id': 'job-1', 'image_id': 'i',
             'volumes': ['v'], 'safety_set_id': 'safe',
             'status': 'rolled back'},
            jobs.result(job(keys.FLOW_SNAPSHOT_ROLLBACK, image_id='i',
                            volumes=[{'volume_id': 'v'}],
                            safety={'set_id': 'safe'}),
                        {keys.SERVER_ID: 's'}))

    def test_a_plugin_flow(self):
        self.assertEqual({'id': 'job-1', 'flow': 'mine', 'state': 'SUCCESS'},
                         jobs.result(job('mine'), {}))
        self.assertEqual({'x': 1},
                         jobs.result(job('mine'), {keys.RESULT: {'x': 1}}))
