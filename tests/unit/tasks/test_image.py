"""Image tasks: an uploaded image a snapshot set adopted survives the
upload's revert."""


import fixtures
from openstack.image.v2 import image as sdk_image
import testtools

from backup_flows import conf
from backup_flows.tasks import image as image_tasks

from tests.unit import fake_sdk

JOB = '11111111-2222-3333-4444-555555555555'


class UploadVolumeToImageRevertTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf.CONF([], project='backup-flows', default_config_files=[])
        self.conn = fake_sdk.connection()
        self.useFixture(fixtures.MockPatch('backup_flows.clients.connect',
                                           return_value=self.conn))
        self.name = image_tasks.job_image_name(JOB, 'safety-image-v1')
        self.task = image_tasks.UploadVolumeToImage(name='upload')

    def deleted(self):
        return [c.args[0] for c in self.conn.image.delete_image.mock_calls]

    def test_deletes_the_image_not_yet_recorded(self):
        self.conn.image.images.return_value = [
            sdk_image.Image(id='i1', name=self.name)]
        self.task.revert('i1', 'cloud', JOB, {'role': 'safety-image-v1',
                                              'set_id': 'safe'})
        self.assertEqual(['i1'], self.deleted())

    def test_keeps_the_image_recorded_in_its_set(self):
        self.conn.image.images.return_value = [
            sdk_image.Image(id='i1', name=self.name,
                            backup_flows_set_id='safe'),
            sdk_image.Image(id='other', name='unrelated')]
        result = self.task.revert('i1', 'cloud', JOB,
                                  {'role': 'safety-image-v1',
                                   'set_id': 'safe'})
        self.assertEqual([], self.deleted())
        self.assertIsNone(result)

    def test_an_image_of_another_set_is_not_spared(self):
        # A volume's image metadata can carry an older set's keys into the
        # image Cinder uploads: that image is still this job's.
        self.conn.image.images.return_value = [
            sdk_image.Image(id='i1', name=self.name,
                            backup_flows_set_id='older')]
        self.task.revert('i1', 'cloud', JOB, {'role': 'safety-image-v1',
                                              'set_id': 'safe'})
        self.assertEqual(['i1'], self.deleted())

    def test_without_a_set_every_image_of_the_job_goes(self):
        self.conn.image.images.return_value = [
            sdk_image.Image(id='i1', name=self.name,
                            backup_flows_set_id='safe')]
        self.task.revert('i1', 'cloud', JOB, {'role': 'safety-image-v1'})
        self.assertEqual(['i1'], self.deleted())
