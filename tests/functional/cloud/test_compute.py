"""Nova on the minicloud: server disks are real files with real bytes."""

import os
import time

from tests.functional import minicloud as mc

MiB = 1024 * 1024


class TestServerDisk(mc.MiniCloudTestCase):

    def test_boot_writes_image_bytes_and_snapshot_uploads_disk(self):
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        server = self.create_server()
        disk = mc.server_disk_path(server.id)
        self.assertTrue(os.path.exists(disk), disk)
        # the disk holds the image's bytes, grown to the flavor's disk size
        self.assertEqual(1024 * MiB, os.path.getsize(disk))
        self.assertEqual(self.download_image_sha256(image.id),
                         mc.sha256_of(disk, image.size))
        self.assertEqual(bytes(MiB), mc.read_disk(disk, image.size, MiB))

        # a guest writes: into the image area and beyond it
        mc.write_disk(disk, 5 * MiB + 17, b'guest-data-1' * 1000)
        mc.write_disk(disk, 900 * MiB, b'guest-data-2' * 1000)
        disk_sha = mc.sha256_of(disk)

        snap_id = self.conn.compute.create_server_image(
            server, name=self._name('snap'))
        snap_id = getattr(snap_id, 'id', snap_id)
        self.cleanup_image(snap_id)
        snap = self.wait_image_active(snap_id)
        self.assertEqual(os.path.getsize(disk), snap.size)
        self.assertEqual(disk_sha, self.download_image_sha256(snap_id))
        # the base image has hw_qemu_guest_agent=yes: like libvirt's live
        # snapshot, the guest is frozen while a point-in-time copy of its
        # disk is extracted, thawed before the copy is uploaded
        events = [e['event'] for e in mc.server_events(server.id)]
        self.assertEqual(['spawn', 'quiesce', 'unquiesce',
                          'snapshot_extracted', 'snapshot'], events)

    def test_snapshot_without_guest_agent_skips_quiesce(self):
        image = self.conn.image.find_image(mc.BASE_IMAGE_NOAGENT,
                                           ignore_missing=False)
        server = self.create_server(image=image.id, flavor=mc.SMALL_FLAVOR)
        disk = mc.server_disk_path(server.id)
        # zero-disk flavor: the disk is as large as the image
        self.assertEqual(image.size, os.path.getsize(disk))
        mc.write_disk(disk, 7 * MiB, b'no-agent-guest' * 100)
        disk_sha = mc.sha256_of(disk)

        snap_id = self.conn.compute.create_server_image(
            server, name=self._name('snap'))
        snap_id = getattr(snap_id, 'id', snap_id)
        self.cleanup_image(snap_id)
        self.wait_image_active(snap_id)
        self.assertEqual(disk_sha, self.download_image_sha256(snap_id))
        # the quiesce attempt fails (no agent) and the snapshot goes on
        events = [e['event'] for e in mc.server_events(server.id)]
        self.assertEqual(['spawn', 'quiesce_failed', 'snapshot_extracted',
                          'snapshot'], events)

    def test_snapshot_fails_when_quiesce_is_required(self):
        # an image without agent that requires quiescing (os_require_quiesce)
        base = self.conn.image.find_image(mc.BASE_IMAGE_NOAGENT,
                                          ignore_missing=False)
        data = self.conn.image.download_image(base).content
        image = self.conn.image.create_image(
            name=self._name('require-quiesce'), data=data, disk_format='raw',
            container_format='bare', allow_duplicates=True,
            validate_checksum=False, os_require_quiesce='true')
        self.cleanup_image(image.id)
        self.wait_image_active(image.id)
        server = self.create_server(image=image.id, flavor=mc.SMALL_FLAVOR)

        snap_id = self.conn.compute.create_server_image(
            server, name=self._name('snap'))
        snap_id = getattr(snap_id, 'id', snap_id)
        self.cleanup_image(snap_id)
        # Nova deletes the image of a failed snapshot
        deadline = time.time() + mc.WAIT
        while self.conn.image.find_image(snap_id) is not None:
            self.assertLess(time.time(), deadline, 'snapshot image stays')
            time.sleep(0.5)
        self.conn.compute.wait_for_server(server, status='ACTIVE',
                                          wait=mc.WAIT,
                                          interval=mc.POLL)
        events = [e['event'] for e in mc.server_events(server.id)]
        self.assertEqual(['spawn', 'quiesce_failed'], events)

    def test_state_changes_are_logged(self):
        server = self.create_server(flavor=mc.SMALL_FLAVOR)
        compute = self.conn.compute
        compute.pause_server(server)
        compute.wait_for_server(server, status='PAUSED', wait=mc.WAIT,
                                interval=mc.POLL)
        compute.unpause_server(server)
        compute.wait_for_server(server, status='ACTIVE', wait=mc.WAIT,
                                interval=mc.POLL)
        compute.stop_server(server)
        compute.wait_for_server(server, status='SHUTOFF', wait=mc.WAIT,
                                interval=mc.POLL)
        compute.start_server(server)
        compute.wait_for_server(server, status='ACTIVE', wait=mc.WAIT,
                                interval=mc.POLL)
        events = [e['event'] for e in mc.server_events(server.id)]
        self.assertEqual(['spawn', 'pause', 'unpause', 'power_off',
                          'power_on'], events)

    def test_rebuild_replaces_disk(self):
        server = self.create_server(image=mc.BASE_IMAGE_NOAGENT,
                                    flavor=mc.SMALL_FLAVOR)
        disk = mc.server_disk_path(server.id)
        mc.write_disk(disk, 0, b'overwritten-by-the-guest')
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        self.conn.compute.rebuild_server(server, image=image.id)
        self.conn.compute.wait_for_server(server, status='ACTIVE',
                                          wait=mc.WAIT,
                                          interval=mc.POLL)
        self.assertEqual(self.download_image_sha256(image.id),
                         mc.sha256_of(disk, image.size))
        self.assertIn('rebuild',
                      [e['event'] for e in mc.server_events(server.id)])
