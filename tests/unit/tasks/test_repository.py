"""tasks/repository.py: disks streamed into the repository."""

import os
from unittest import mock

import fixtures
from openstack import exceptions as sdk_exc
from openstack.image.v2 import image as image_mod
import requests
import testtools

from backup_flows import conf
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
