"""Cinder on the minicloud: volumes, snapshots and backups keep real bytes."""

import os

from tests.functional import minicloud as mc

MiB = 1024 * 1024
GiB = 1024 * MiB


class TestVolumes(mc.MiniCloudTestCase):

    def test_attach_in_use_snapshot_volume_from_snapshot_and_revert(self):
        server = self.create_server()
        volume = self.create_volume(size=1)
        path = mc.volume_path(volume.id)
        self.assertEqual(GiB, os.path.getsize(path))
        volume = self.attach_volume(server, volume)
        attach = [e for e in mc.server_events(server.id)
                  if e['event'] == 'attach']
        self.assertEqual(path, attach[-1]['device_path'])

        mc.write_disk(path, 0, b'first-version' * 4096)
        mc.write_disk(path, 700 * MiB, b'tail-v1' * 1000)
        sha_v1 = mc.sha256_of(path)

        # in-use snapshot (block-storage 3.66 allows it without force)
        bs = self.conn.block_storage
        snap = self.create_snapshot(volume.id, force=True)
        self.assertEqual(sha_v1, mc.sha256_of(mc.snapshot_path(snap.id)))

        clone = self.create_volume(size=1, snapshot_id=snap.id)
        self.assertEqual(sha_v1, mc.sha256_of(mc.volume_path(clone.id)))

        mc.write_disk(path, 0, b'second-version' * 4096)
        self.assertNotEqual(sha_v1, mc.sha256_of(path))

        # revert needs an available volume
        self.conn.compute.delete_volume_attachment(server, volume.id)
        bs.wait_for_status(volume, status='available', failures=['error'],
                           wait=mc.WAIT)
        bs.revert_volume_to_snapshot(volume, snap)
        bs.wait_for_status(volume, status='available', failures=['error'],
                           wait=mc.WAIT)
        self.assertEqual(sha_v1, mc.sha256_of(path))

    def test_extend_and_clone(self):
        volume = self.create_volume(size=1)
        path = mc.volume_path(volume.id)
        mc.write_disk(path, 123, b'clone-me' * 512)
        self.conn.block_storage.extend_volume(volume, 2)
        self.conn.block_storage.wait_for_status(
            volume, status='available', failures=['error', 'error_extending'],
            wait=mc.WAIT)
        self.assertEqual(2 * GiB, os.path.getsize(path))
        clone = self.create_volume(size=2, source_volid=volume.id)
        self.assertEqual(mc.sha256_of(path),
                         mc.sha256_of(mc.volume_path(clone.id)))


class TestBackups(mc.MiniCloudTestCase):

    def test_backup_and_restore_keep_bytes(self):
        bs = self.conn.block_storage
        volume = self.create_volume(size=1)
        path = mc.volume_path(volume.id)
        mc.write_disk(path, 0, b'backed-up' * 10000)
        mc.write_disk(path, 512 * MiB, os.urandom(MiB))
        sha = mc.sha256_of(path)

        backup = bs.create_backup(volume_id=volume.id,
                                  name=self._name('backup'))
        self.addCleanup(self._delete_backup, backup.id)
        backup = bs.wait_for_status(backup, status='available',
                                    failures=['error'], wait=mc.WAIT)

        target = self.create_volume(size=1)
        bs.restore_backup(backup, volume_id=target.id)
        bs.wait_for_status(backup, status='available', failures=['error'],
                           wait=mc.WAIT)
        bs.wait_for_status(target, status='available',
                           failures=['error', 'error_restoring'],
                           wait=mc.WAIT)
        self.assertEqual(sha, mc.sha256_of(mc.volume_path(target.id)))

    def _delete_backup(self, backup_id):
        bs = self.conn.block_storage
        backup = bs.find_backup(backup_id)
        if backup is None:
            return
        bs.delete_backup(backup_id, ignore_missing=True)
        bs.wait_for_delete(backup, wait=mc.WAIT)


class TestImages(mc.MiniCloudTestCase):

    def test_volume_from_image_and_upload_to_image(self):
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        volume = self.create_volume(size=1, image_id=image.id)
        path = mc.volume_path(volume.id)
        self.assertEqual(GiB, os.path.getsize(path))
        self.assertEqual(self.download_image_sha256(image.id),
                         mc.sha256_of(path, image.size))
        mc.write_disk(path, 10 * MiB, b'upload-me' * 100)
        sha = mc.sha256_of(path)
        resp = self.conn.block_storage.upload_volume_to_image(
            volume, self._name('upload'), disk_format='raw',
            container_format='bare')
        image_id = resp['image_id']
        self.cleanup_image(image_id)
        self.wait_image_active(image_id)
        self.conn.block_storage.wait_for_status(
            volume, status='available', failures=['error'], wait=mc.WAIT)
        self.assertEqual(sha, self.download_image_sha256(image_id))
