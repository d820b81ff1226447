"""tasks/image.py: UploadDiskToImage streams a backed-up disk into Glance."""

import hashlib
import io
import os

import fixtures
from openstack.image.v2 import image as image_mod

from backup_flows import clients
from backup_flows import exceptions
from backup_flows.tasks import image as image_tasks

from tests.unit import fake_sdk
from tests.unit.repository import base


def _image(status='active', size=None, algo=None, value=None):
    return image_mod.Image(id='img-1', status=status, size=size,
                           os_hash_algo=algo, os_hash_value=value)


def _sha512(data):
    return hashlib.sha512(data).hexdigest()


class UploadDiskToImageTestCase(base.RepositoryTestCase):
    """The upload streams verified bytes; a read error fails the task; what
    Glance stored must hash as what was sent."""

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo()
        self.data = base.disk_bytes(7, 300 << 10)
        self.backup_id = self.backup(self.repo, {'vda': self.data})
        self.conn = fake_sdk.connection()
        self.stored(_sha512(self.data))
        self.received = []
        self.conn.image.put.side_effect = self._put
        self.useFixture(fixtures.MockPatchObject(
            clients, 'connect', return_value=self.conn))
        self.task = image_tasks.UploadDiskToImage(name='upload-disk-vda')
        self.disk = {'disk': 'vda', 'size': len(self.data)}
        self.log = self.useFixture(fixtures.FakeLogger(
            name='backup_flows.tasks'))

    def stored(self, value, algo='sha512'):
        """Glance answers: queued, then active with hash ``value``."""
        self.conn.image.get_image.side_effect = [
            _image('queued'), _image('active', len(self.data), algo, value)]

    def _put(self, url, data, headers, connect_retries):
        self.assertEqual('/images/img-1/file', url)
        self.assertEqual(0, connect_retries)
        self.assertEqual(str(len(self.data)),
                         headers['X-OpenStack-Image-Size'])
        for chunk in data:
            self.received.append(bytes(chunk))
        return fake_sdk.response(204)

    def execute(self, backup_id=None):
        return self.task.execute(cloud='c', repository_url=self.path(),
                                 backup_id=backup_id or self.backup_id,
                                 disk=self.disk, image_id='img-1')

    def corrupt(self):
        packs = [os.path.join(d, f) for d, _, files in
                 os.walk(os.path.join(self.path(), 'packs')) for f in files]
        with open(packs[0], 'r+b') as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 1]))

    def test_streams_the_disk_in_pieces(self):
        self.execute()
        self.assertEqual(self.data, b''.join(self.received))
        self.assertGreater(len(self.received), 1)

    def test_damaged_chunk_fails_the_task(self):
        self.corrupt()
        self.assertRaises(exceptions.RepositoryCorrupted, self.execute)
        self.assertNotEqual(self.data, b''.join(self.received))

    def test_bytes_not_matching_the_whole_disk_checksum_never_end(self):
        # A manifest whose SHA-256 is not that of its chunks (a writer's
        # bug): the body fails before it ends, so Glance keeps nothing.
        with self.repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(self.data))
            record = dict(session.disk_record('vda'), sha256='0' * 64)
            session.release()
        with self.repo.start_backup() as session:
            session.add_disk(record)
            wrong = session.commit('server-1', {})
        exc = self.assertRaises(exceptions.RepositoryCorrupted,
                                self.execute, wrong)
        self.assertIn('whole-disk SHA-256 mismatch', str(exc))
        # every byte was handed over, then the body failed instead of
        # ending
        self.assertEqual(self.data, b''.join(self.received))
        self.assertEqual(1, self.conn.image.get_image.call_count)

    def test_glance_storing_other_bytes_fails_the_task(self):
        self.stored(_sha512(self.data[:-1] + b'?'))
        exc = self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.assertIn('Image img-1 of disk vda does not hold the expected '
                      'bytes: sha512 ', str(exc))
        self.assertIn(_sha512(self.data)[:16], str(exc))

    def test_another_algorithm_is_computed_from_the_repository(self):
        self.stored(hashlib.sha3_256(self.data).hexdigest(), 'sha3_256')
        self.execute()
        self.stored(hashlib.sha3_256(b'other').hexdigest(), 'sha3_256')
        self.received = []
        exc = self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.assertIn('sha3_256', str(exc))

    def test_an_image_without_hash_is_checked_by_its_size(self):
        self.stored(None, None)
        self.execute()
        self.assertIn('Image img-1 of disk vda has no hash in Glance',
                      self.log.output)
        self.conn.image.get_image.side_effect = [
            _image('queued'), _image('active', len(self.data) - 1)]
        self.assertRaises(exceptions.BackupFlowsError, self.execute)

    def test_read_error_wrapped_by_the_http_stack_is_reraised(self):
        self.corrupt()

        def wrapping_put(url, data, **kwargs):
            try:
                for _ in data:
                    pass
            except Exception:
                raise ConnectionError('connection aborted')
        self.conn.image.put.side_effect = wrapping_put
        self.assertRaises(exceptions.RepositoryCorrupted, self.execute)

    def test_image_already_uploaded_is_accepted(self):
        self.conn.image.get_image.side_effect = [
            _image('active', len(self.data), 'sha512', _sha512(self.data))]
        self.execute()
        self.conn.image.put.assert_not_called()

    def test_image_already_uploaded_with_other_bytes_fails(self):
        self.conn.image.get_image.side_effect = [
            _image('active', len(self.data), 'sha512', _sha512(b'x'))]
        self.assertRaises(exceptions.BackupFlowsError, self.execute)
        self.conn.image.put.assert_not_called()

    def test_image_in_another_state_fails(self):
        self.conn.image.get_image.side_effect = [_image('killed')]
        self.assertRaises(exceptions.ResourceFailed, self.execute)
