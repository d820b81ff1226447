"""Cinder on the minicloud: volumes, snapshots and backups keep real bytes."""

import os

from tests.functional import minicloud as mc

MiB = 1024 * 1024
GiB = 1024 * MiB


class TestVolumes(mc.MiniCloudTestCase):

    def test_attach_in_use_snapshot_volume_from_snapshot_and_revert(self):
        server = self.create_server(flavor=mc.SMALL_FLAVOR)
        volume = self.create_volume(size=1)
        path = mc.volume_path(volume.id)
        self.assertEqual(GiB, os.path.getsize(path))
        volume = self.attach_volume(server, volume)
        attach = [e for e in mc.server_events(server.id)
                  if e['event'] == 'attach']
        self.assertEqual(path, attach[-1]['device_path'])

        # the guest writes through the attachment (the same file)
        mc.write_disk(path, 0, b'first-version' * 4096)
        mc.write_disk(path, 700 * MiB, b'tail-v1' * 1000)
        sha_v1 = mc.sha256_of(path)

        # openstacksdk's Snapshot speaks at most microversion 3.65, where a
        # snapshot of an in-use volume needs force
        snap = self.create_snapshot(volume.id, force=True)
        self.assertEqual(sha_v1, mc.sha256_of(mc.snapshot_path(snap.id)))

        clone = self.create_volume(size=1, snapshot_id=snap.id)
        self.assertEqual(sha_v1, mc.sha256_of(mc.volume_path(clone.id)))

        mc.write_disk(path, 0, b'second-version' * 4096)
        mc.write_disk(path, 900 * MiB, b'tail-v2' * 1000)
        sha_v2 = mc.sha256_of(path)
        self.assertNotEqual(sha_v1, sha_v2)

        # revert needs an available volume
        bs = self.conn.block_storage
        self.conn.compute.delete_volume_attachment(server, volume.id)
        self.wait_volume(volume.id)
        bs.revert_volume_to_snapshot(volume, snap)
        self.wait_volume(volume.id)
        self.wait_snapshot(snap.id)
        self.assertEqual(GiB, os.path.getsize(path))
        self.assertEqual(sha_v1, mc.sha256_of(path))
        self.assertEqual(b'first-version', mc.read_disk(path, 0, 13))
        self.assertEqual(bytes(7000), mc.read_disk(path, 900 * MiB, 7000))
        # the snapshot and its clone are untouched by the later writes
        self.assertEqual(sha_v1, mc.sha256_of(mc.snapshot_path(snap.id)))
        self.assertEqual(sha_v1, mc.sha256_of(mc.volume_path(clone.id)))

    def test_extend_and_clone(self):
        volume = self.create_volume(size=1)
        path = mc.volume_path(volume.id)
        mc.write_disk(path, 123, b'clone-me' * 512)
        self.conn.block_storage.extend_volume(volume, 2)
        self.wait_volume(volume.id, size=2)
        self.assertEqual(2 * GiB, os.path.getsize(path))
        self.assertEqual(b'clone-me', mc.read_disk(path, 123, 8))
        # the new space is usable
        mc.write_disk(path, GiB + 5 * MiB, b'beyond-the-old-end' * 64)
        sha = mc.sha256_of(path)
        clone = self.create_volume(size=2, source_volid=volume.id)
        clone_path = mc.volume_path(clone.id)
        self.assertEqual(2 * GiB, os.path.getsize(clone_path))
        self.assertEqual(sha, mc.sha256_of(clone_path))

    def test_small_volume_type_is_a_64_mib_file(self):
        # minicloud-small: 64 MiB files whatever the nominal size, through
        # create, snapshot, volume from snapshot, clone and image upload.
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        volume = self.create_volume(size=1, image_id=image.id,
                                    volume_type=mc.SMALL_VOLUME_TYPE)
        path = mc.volume_path(volume.id)
        self.assertEqual((1, 64 * MiB), (volume.size, os.path.getsize(path)))
        self.assertEqual(self.download_image_sha256(image.id),
                         mc.sha256_of(path))
        mc.write_disk(path, 63 * MiB, b'end-of-small-volume' * 100)
        sha = mc.sha256_of(path)
        snap = self.create_snapshot(volume.id)
        self.assertEqual(sha, mc.sha256_of(mc.snapshot_path(snap.id)))
        for kwargs in ({'snapshot_id': snap.id},
                       {'source_volid': volume.id}):
            copy = self.create_volume(size=1,
                                      volume_type=mc.SMALL_VOLUME_TYPE,
                                      **kwargs)
            self.assertEqual(sha, mc.sha256_of(mc.volume_path(copy.id)))
        resp = self.conn.block_storage.upload_volume_to_image(
            volume, self._name('upload'), disk_format='raw',
            container_format='bare')
        self.cleanup_image(resp['image_id'])
        uploaded = self.wait_image_active(resp['image_id'])
        self.assertEqual(64 * MiB, uploaded.size)
        self.assertEqual(sha, self.download_image_sha256(resp['image_id']))


class TestBackups(mc.MiniCloudTestCase):

    COMPONENTS = ('cinder-backup',)

    def test_backup_and_restore_keep_bytes(self):
        bs = self.conn.block_storage
        volume = self.create_volume(size=1)
        path = mc.volume_path(volume.id)
        mc.write_disk(path, 0, b'backed-up' * 10000)
        mc.write_disk(path, 512 * MiB, os.urandom(MiB))
        sha_full = mc.sha256_of(path)
        full = self.create_backup(volume.id)
        self.assertFalse(full.is_incremental)

        # the guest keeps writing; an incremental backup takes the change
        mc.write_disk(path, 0, b'changed-after-full' * 100)
        mc.write_disk(path, 800 * MiB, os.urandom(MiB))
        sha_incr = mc.sha256_of(path)
        incr = self.create_backup(volume.id, is_incremental=True)
        self.assertTrue(incr.is_incremental)

        for backup, sha in ((full, sha_full), (incr, sha_incr)):
            target = self.create_volume(size=1)
            target_path = mc.volume_path(target.id)
            bs.restore_backup(backup, volume=target.id)
            self.wait_backup(backup.id)
            self.wait_volume(target.id)
            self.assertEqual(GiB, os.path.getsize(target_path))
            self.assertEqual(sha, mc.sha256_of(target_path))


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
            volume, status='available', failures=['error'], wait=mc.WAIT,
            interval=mc.POLL)
        self.assertEqual(sha, self.download_image_sha256(image_id))
