"""tasks/repository.py: disks streamed into the repository."""

import hashlib
import io
import os
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from openstack.image.v2 import image as image_mod
import requests
from taskflow import task as tf_task
import testtools

from backup_flows import conf
from backup_flows import exceptions
from backup_flows import repository
from backup_flows.tasks import repository as repo_tasks

from tests.unit import fake_sdk

CONF = conf.CONF


def _streamed(status, body):
    response = requests.Response()
    response.status_code = status
    response.reason = 'Service Unavailable' if status == 503 else 'OK'
    response.url = 'http://glance/v2/images/img-1/file'
    response.raw = mock.Mock()
    response.iter_content = mock.Mock(return_value=iter([body]))
    response._content = body if status != 200 else False
    return response


class WriteDiskToRepositoryTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        CONF([], project='backup-flows', default_config_files=[])
        self.url = os.path.join(tmp, 'repo')
        repository.init_repository(CONF, url=self.url).close()
        self.conn = fake_sdk.connection()
        self.useFixture(fixtures.MockPatch(
            'backup_flows.clients.connect', return_value=self.conn))
        self.task = repo_tasks.WriteDiskToRepository(name='write-disk-vda')

    def test_an_error_answer_is_never_read_as_the_disk(self):
        body = b'503 Service Unavailable'
        fake_sdk.returns(self.conn.image.get_image,
                         image_mod.Image(id='img-1', size=len(body)))
        fake_sdk.returns(self.conn.image.download_image,
                         _streamed(503, body))
        self.assertRaises(sdk_exc.HttpException, self.task.execute,
                          'cloud', self.url, {'disk': 'vda'}, 'img-1')
        with repository.open_repository(CONF, url=self.url) as repo:
            self.assertEqual(0, len(repo.load_index()))

    def test_the_image_bytes_are_written(self):
        body = b'\x01' * 4096
        fake_sdk.returns(self.conn.image.get_image,
                         image_mod.Image(id='img-1', size=len(body)))
        fake_sdk.returns(self.conn.image.download_image,
                         _streamed(200, body))
        result = self.task.execute('cloud', self.url, {'disk': 'vda'},
                                   'img-1')
        self.assertEqual(len(body), result['record']['size'])
        self.conn.image.download_image.assert_called_once_with(
            'img-1', stream=True)


class WriteDiskProgressTestCase(WriteDiskToRepositoryTestCase):
    """Progress goes to the task's listeners, never to a stream."""

    def test_progress_is_reported_not_printed(self):
        out, err = io.StringIO(), io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        events = []
        self.task.notifier.register(tf_task.EVENT_UPDATE_PROGRESS,
                                    lambda event, details: events.append(
                                        details))
        body = os.urandom(1 << 20)
        fake_sdk.returns(self.conn.image.get_image, image_mod.Image(
            id='img-1', size=len(body), os_hash_algo='sha512',
            os_hash_value=hashlib.sha512(body).hexdigest()))
        response = _streamed(200, b'')
        response.iter_content = mock.Mock(return_value=iter(
            [body[i:i + 4096] for i in range(0, len(body), 4096)]))
        fake_sdk.returns(self.conn.image.download_image, response)
        self.task.execute('cloud', self.url, {'disk': 'vda'}, 'img-1')
        # throttled: the first read, then (in this short copy) the end
        self.assertLessEqual(len(events), 2)
        self.assertEqual([{'disk': 'vda', 'total': len(body), 'done': d,
                           'progress': d / len(body)}
                          for d in sorted({events[0]['done'], len(body)})],
                         events)
        self.assertEqual(('', ''), (out.getvalue(), err.getvalue()))


class WriteDiskHashCheckTestCase(WriteDiskToRepositoryTestCase):
    """The bytes read must have the hash Glance recorded (os_hash_*)."""

    def setUp(self):
        super().setUp()
        self.body = os.urandom(64 << 10) + bytes(64 << 10)
        self.log = self.useFixture(fixtures.FakeLogger(
            name='backup_flows.tasks'))

    def write(self, algo, value, body=None):
        fake_sdk.returns(self.conn.image.get_image, image_mod.Image(
            id='img-1', size=len(self.body), os_hash_algo=algo,
            os_hash_value=value))
        response = _streamed(200, b'')
        data = body or self.body
        # several pieces, as Glance streams them
        response.iter_content = mock.Mock(return_value=iter(
            [data[i:i + 10000] for i in range(0, len(data), 10000)]))
        fake_sdk.returns(self.conn.image.download_image, response)
        return self.task.execute('cloud', self.url, {'disk': 'vda'},
                                 'img-1')

    def backups(self):
        with repository.open_repository(CONF, url=self.url) as repo:
            return repo.backup_ids()

    def test_matching_hash(self):
        result = self.write('sha512', hashlib.sha512(self.body).hexdigest())
        self.assertEqual(len(self.body), result['record']['size'])
        self.assertEqual(hashlib.sha256(self.body).hexdigest(),
                         result['record']['sha256'])
        self.assertNotIn('no hash', self.log.output)

    def test_other_bytes_than_glance_hashed_fail(self):
        tampered = bytearray(self.body)
        tampered[70000] ^= 1
        exc = self.assertRaises(
            exceptions.BackupFlowsError, self.write, 'sha512',
            hashlib.sha512(self.body).hexdigest(), bytes(tampered))
        self.assertIn('Image img-1 of disk vda does not hold the expected '
                      'bytes: sha512 %s...' % hashlib.sha512(
                          tampered).hexdigest()[:16], str(exc))
        self.assertIn("changed after Glance hashed it", str(exc))
        # no backup; what was stored is unreferenced data for prune
        self.assertEqual([], self.backups())

    def test_glance_algorithm_is_used(self):
        self.write('sha3_256', hashlib.sha3_256(self.body).hexdigest())
        self.assertRaises(exceptions.BackupFlowsError, self.write,
                          'sha3_256', hashlib.sha512(self.body).hexdigest())

    def test_image_without_hash_is_checked_by_size_and_logged(self):
        result = self.write(None, None)
        self.assertEqual(len(self.body), result['record']['size'])
        self.assertIn('Image img-1 of disk vda has no hash in Glance '
                      '(os_hash_value): its bytes are checked by their size '
                      'only', self.log.output)
        exc = self.assertRaises(exceptions.BackupFlowsError, self.write,
                                None, None, self.body[:-1])
        self.assertIn('has %d bytes, %d were read' % (
            len(self.body), len(self.body) - 1), str(exc))

    def test_unknown_algorithm_is_checked_by_size_and_logged(self):
        self.write('whirlpool-9000', 'ab')
        self.assertIn('hashed with whirlpool-9000', self.log.output)
