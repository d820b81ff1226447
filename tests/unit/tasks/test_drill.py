"""Drill tasks: restored disks read back and compared with the backup;
the throw-away server deleted."""

import hashlib
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as sdk_volume
import requests
import testtools

from backup_flows import exceptions
from backup_flows.tasks import drill as drill_tasks
from backup_flows.tasks import server as server_tasks

from tests.unit import fake_sdk

DATA = b'backed-up bytes ' * 1000
DISK = {'disk': 'vda', 'size': len(DATA),
        'sha256': hashlib.sha256(DATA).hexdigest()}
CHECKSUM = 'sha256:%s' % DISK['sha256']


def _streamed(status, chunks):
    response = requests.Response()
    response.status_code = status
    response.reason = 'OK' if status == 200 else 'Service Unavailable'
    response.url = 'http://glance/v2/images/img-1/file'
    response.raw = mock.Mock()
    response.iter_content = mock.Mock(return_value=iter(chunks))
    response._content = b''.join(chunks) if status != 200 else False
    return response


class ReadBackTestCase(testtools.TestCase):

    def test_same_size(self):
        self.assertEqual({'size': len(DATA), 'checksum': CHECKSUM},
                         drill_tasks.read_back([DATA[:100], DATA[100:]],
                                               len(DATA)))

    def test_larger_disk_ending_in_zeros_counts_as_the_backed_up_one(self):
        self.assertEqual({'size': len(DATA), 'checksum': CHECKSUM},
                         drill_tasks.read_back([DATA + bytes(5000)],
                                               len(DATA)))

    def test_larger_disk_with_other_bytes_keeps_its_size(self):
        self.assertEqual({'size': len(DATA) + 3, 'checksum': CHECKSUM},
                         drill_tasks.read_back([DATA, b'abc'], len(DATA)))

    def test_shorter_disk(self):
        self.assertEqual(
            {'size': 10,
             'checksum': 'sha256:%s' % hashlib.sha256(DATA[:10]).hexdigest()},
            drill_tasks.read_back([DATA[:10]], len(DATA)))


class CompareDiskWithBackupTestCase(fake_sdk.ConnectedTestCase):

    def setUp(self):
        super().setUp()
        self.task = drill_tasks.CompareDiskWithBackup(name='compare-disk-vda')

    def test_the_same_bytes_match(self):
        fake_sdk.returns(self.conn.image.download_image,
                         _streamed(200, [DATA, bytes(512)]))
        result = self.task.execute('cloud', DISK, 'img-1')
        self.assertEqual(
            {'name': 'vda', 'ok': True,
             'expected': {'size': DISK['size'], 'checksum': CHECKSUM},
             'actual': {'name': 'vda', 'size': DISK['size'],
                        'checksum': CHECKSUM}}, result)
        self.conn.image.download_image.assert_called_once_with(
            'img-1', stream=True)

    def test_other_bytes_are_reported_not_raised(self):
        fake_sdk.returns(self.conn.image.download_image,
                         _streamed(200, [b'x' + DATA[1:]]))
        result = self.task.execute('cloud', DISK, 'img-1')
        self.assertFalse(result['ok'])
        self.assertNotEqual(CHECKSUM, result['actual']['checksum'])

    def test_an_error_answer_is_never_read_as_the_disk(self):
        fake_sdk.returns(self.conn.image.download_image,
                         _streamed(503, [b'503 Service Unavailable']))
        self.assertRaises(sdk_exc.HttpException, self.task.execute,
                          'cloud', DISK, 'img-1')

    def test_reads_only(self):
        self.assertFalse(hasattr(drill_tasks.CompareDiskWithBackup.revert,
                                 '__wrapped__'))


def _compared(name, ok):
    expected = {'size': 10, 'checksum': 'sha256:aa'}
    return {'name': name, 'ok': ok, 'expected': expected,
            'actual': expected if ok else {'name': name, 'size': 12,
                                           'checksum': 'sha256:bb'}}


class CheckDrillDisksTestCase(testtools.TestCase):

    def task(self):
        return drill_tasks.CheckDrillDisks(name='check-drill-disks')

    def test_returns_the_disks_in_order(self):
        disks = self.task().execute(['vdb', 'vda'],
                                    drill_disk_vda=_compared('vda', True),
                                    drill_disk_vdb=_compared('vdb', True))
        self.assertEqual(['vdb', 'vda'], [d['name'] for d in disks])

    def test_a_differing_disk_fails_naming_it(self):
        error = self.assertRaises(
            exceptions.DrillDisksDiffer, self.task().execute, ['vda', 'vdb'],
            drill_disk_vda=_compared('vda', True),
            drill_disk_vdb=_compared('vdb', False))
        self.assertEqual('the restored disks vdb differ from the backup '
                         '(vdb: expected 10 bytes, sha256:aa, got 12 bytes, '
                         'sha256:bb)', str(error))
        self.assertEqual(exceptions.EXIT_FAILED, error.exit_code)


class ReportDrillTestCase(testtools.TestCase):

    def test_result(self):
        task = drill_tasks.ReportDrill(name='report-drill')
        self.assertEqual({'result'}, set(task.provides))
        self.assertEqual({'server_id': 's1', 'disks': [1],
                          'cleaned_up': True}, task.execute('s1', [1]))


class DeleteServerTestCase(fake_sdk.ConnectedTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch('time.sleep'))
        self.conn.compute.get_server.side_effect = (
            sdk_exc.NotFoundException('gone'))
        fake_sdk.returns(self.conn.block_storage.get_volume,
                         sdk_volume.Volume(id='vol-1', status='available'))

    def test_deletes_the_server_and_waits_for_its_volumes(self):
        task = server_tasks.DeleteServer(name='delete-drill-server',
                                         requires=['volume_vdb'])
        self.assertIn('volume_vdb', task.requires)
        task.execute('cloud', 'srv-1', volume_vdb='vol-1')
        self.conn.compute.delete_server.assert_called_once_with(
            'srv-1', ignore_missing=True)
        self.conn.block_storage.get_volume.assert_called_with('vol-1')

    def test_a_server_already_gone_is_fine(self):
        server_tasks.DeleteServer(name='delete').execute('cloud', 'srv-1')
        self.conn.compute.delete_server.assert_called_once_with(
            'srv-1', ignore_missing=True)

    def test_nothing_to_revert(self):
        self.assertFalse(hasattr(server_tasks.DeleteServer.revert,
                                 '__wrapped__'))
