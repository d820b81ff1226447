"""Image tasks: an uploaded image a snapshot set adopted survives the
upload's revert."""


import fixtures
from openstack import exceptions as sdk_exc
from openstack.compute.v2 import server as sdk_server
from openstack.image.v2 import image as sdk_image

from backup_flows import exceptions
from backup_flows import tags
from backup_flows.tasks import image as image_tasks

from tests.unit import fake_sdk
from tests.unit.tasks import taskcase

JOB = '11111111-2222-3333-4444-555555555555'


class UploadVolumeToImageRevertTestCase(fake_sdk.ConnectedTestCase):

    def setUp(self):
        super().setUp()
        self.name = tags.job_image_name(JOB, 'safety-image-v1')
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


class WaitForRootCapturedTestCase(fake_sdk.ConnectedTestCase):
    """Polls Glance, and the server only now and then."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch('backup_flows.cloud.waits.time.sleep'))
        self.task = image_tasks.WaitForRootCaptured(name='wait')

    def images(self, *statuses):
        self.conn.image.get_image.side_effect = [
            sdk_image.Image(id='img', status=status) for status in statuses]

    def servers(self, *task_states):
        self.conn.compute.get_server.side_effect = [
            sdk_server.Server(id='srv', status='ACTIVE', task_state=state)
            for state in task_states]

    def test_waits_for_the_image_then_checks_the_server_is_idle(self):
        self.images('queued', 'saving', 'saving', 'active')
        self.servers(None)
        self.task.execute('cloud', 'srv', 'img')
        self.assertEqual(4, self.conn.image.get_image.call_count)
        # the server once, at the end: the interval never passed
        self.conn.compute.get_server.assert_called_once_with('srv')

    def test_image_deleted_by_nova_is_a_failed_capture(self):
        self.conn.image.get_image.side_effect = sdk_exc.NotFoundException()
        self.assertRaises(exceptions.RootCaptureFailed, self.task.execute,
                          'cloud', 'srv', 'img')
        self.conn.compute.get_server.assert_not_called()

    def test_killed_image_is_a_failed_capture(self):
        self.images('saving', 'killed')
        self.assertRaises(exceptions.RootCaptureFailed, self.task.execute,
                          'cloud', 'srv', 'img')

    def test_server_idle_while_the_image_is_not_active_is_a_failure(self):
        self.useFixture(fixtures.MockPatch(
            'backup_flows.tasks.image.SERVER_CHECK_INTERVAL', 0))
        self.images('saving', 'queued', 'queued')
        self.servers('image_uploading', None)
        self.assertRaises(exceptions.RootCaptureFailed, self.task.execute,
                          'cloud', 'srv', 'img')
        self.assertEqual(2, self.conn.compute.get_server.call_count)

    def test_image_turning_active_as_the_server_goes_idle(self):
        self.useFixture(fixtures.MockPatch(
            'backup_flows.tasks.image.SERVER_CHECK_INTERVAL', 0))
        # seen saving, then the server idle, then read again: active
        self.images('saving', 'active')
        self.servers(None, None)
        self.task.execute('cloud', 'srv', 'img')
        self.assertEqual(2, self.conn.compute.get_server.call_count)


SET_META = {'set_id': 'set-1', 'job_id': JOB, 'image_name': 'web-1'}


class ImageTasksTestCase(taskcase.TaskTestCase):
    """Create, wait for and delete images; reverts delete this job's."""

    def setUp(self):
        super().setUp()
        self.cloud.add_server('srv', root=b'root')

    def test_create_server_image_and_adopt_it_again(self):
        task = image_tasks.CreateServerImage(name='create-root-image')
        image_id = task.execute('c', 'srv', SET_META)
        call = self.conn.compute.create_server_image.call_args
        self.assertEqual(('srv', 'web-1'), call.args)
        self.assertEqual('set-1', call.kwargs['metadata'][
            'backup_flows_set_id'])
        self.assertEqual(image_id, task.execute('c', 'srv', SET_META))
        self.assertEqual(1, self.conn.compute.create_server_image.call_count)
        image_tasks.WaitForImageActive(name='wait').execute('c', image_id)
        self.assertIsNone(task.revert(image_id, 'c', 'srv', SET_META))
        self.conn.image.delete_image.assert_called_once_with(
            image_id, ignore_missing=True)
        self.assertEqual({}, self.cloud.images)

    def test_create_server_image_revert_skips_and_swallows(self):
        task = image_tasks.CreateServerImage(name='create-root-image')
        task.revert(taskcase.a_failure(), 'c', 'srv', SET_META)
        self.assertNoChange('image.delete_image')
        self.assertRevertSwallows(task, 'image.images', None, 'c', 'srv',
                                  SET_META)

    def test_create_image_tagged_with_the_job(self):
        task = image_tasks.CreateImage(name='create-image-vda')
        spec = {'role': 'restore-image-vda', 'name': 'vda', 'min_disk': 1}
        image_id = task.execute('c', JOB, spec)
        self.conn.image.create_image.assert_called_once_with(
            name='vda', disk_format='raw', container_format='bare',
            visibility='private', min_disk=1, backup_flows_job_id=JOB,
            backup_flows_role='restore-image-vda')
        task.revert(None, 'c', JOB, spec)
        self.assertNotIn(image_id, self.cloud.images)
        self.assertRevertSwallows(task, 'image.images', None, 'c', JOB, spec)

    def test_upload_volume_to_image_named_after_the_job(self):
        self.cloud.add_volume('vol', b'bytes')
        task = image_tasks.UploadVolumeToImage(name='upload')
        spec = {'role': 'export-image-vdb'}
        image_id = task.execute('c', JOB, spec, 'vol')
        self.conn.block_storage.upload_volume_to_image.assert_called_once_with(
            'vol', tags.job_image_name(JOB, 'export-image-vdb'),
            force=False, disk_format='raw', container_format='bare')
        self.assertEqual(b'bytes', self.cloud.data[image_id])
        self.assertEqual(image_id, task.execute('c', JOB, spec, 'vol'))
        task.revert(taskcase.a_failure(), 'c', JOB, {'role': 'other'})
        self.assertNoChange('image.delete_image')

    def test_delete_image_and_a_failed_wait(self):
        image_id = self.cloud.add_image(data=b'x')
        self.cloud.images[image_id]['status'] = 'killed'
        self.assertRaises(exceptions.ResourceFailed,
                          image_tasks.WaitForImageActive(name='w').execute,
                          'c', image_id)
        image_tasks.DeleteImage(name='d').execute('c', image_id)
        self.conn.image.delete_image.assert_called_once_with(
            image_id, ignore_missing=True)
        self.assertEqual({}, self.cloud.images)
