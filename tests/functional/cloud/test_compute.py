"""Nova on the minicloud: server disks are real files with real bytes."""

import os

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
        events = [e['event'] for e in mc.server_events(server.id)]
        self.assertEqual(['spawn', 'snapshot'], events)

    def test_state_changes_are_logged(self):
        server = self.create_server()
        compute = self.conn.compute
        compute.pause_server(server)
        compute.wait_for_server(server, status='PAUSED', wait=mc.WAIT)
        compute.unpause_server(server)
        compute.wait_for_server(server, status='ACTIVE', wait=mc.WAIT)
        compute.stop_server(server)
        compute.wait_for_server(server, status='SHUTOFF', wait=mc.WAIT)
        compute.start_server(server)
        compute.wait_for_server(server, status='ACTIVE', wait=mc.WAIT)
        events = [e['event'] for e in mc.server_events(server.id)]
        self.assertEqual(['spawn', 'pause', 'unpause', 'power_off',
                          'power_on'], events)

    def test_rebuild_replaces_disk(self):
        server = self.create_server(image=mc.BASE_IMAGE_NOAGENT)
        disk = mc.server_disk_path(server.id)
        mc.write_disk(disk, 0, b'overwritten-by-the-guest')
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        self.conn.compute.rebuild_server(server, image=image.id)
        self.conn.compute.wait_for_server(server, status='ACTIVE',
                                          wait=mc.WAIT)
        self.assertEqual(self.download_image_sha256(image.id),
                         mc.sha256_of(disk, image.size))
        self.assertIn('rebuild',
                      [e['event'] for e in mc.server_events(server.id)])


class TestComputeRestart(mc.MiniCloudTestCase):

    def test_servers_survive_nova_compute_restart(self):
        server = self.create_server()
        disk = mc.server_disk_path(server.id)
        mc.write_disk(disk, 3 * MiB, b'before-restart' * 100)
        sha = mc.sha256_of(disk)

        mc.restart_service('nova-compute')

        listed = {s.id: s for s in self.conn.compute.servers()}
        self.assertIn(server.id, listed)
        self.assertEqual('ACTIVE', listed[server.id].status)
        self.assertEqual(sha, mc.sha256_of(disk))
        # the driver still knows the guest: a state change works
        self.conn.compute.stop_server(server)
        self.conn.compute.wait_for_server(server, status='SHUTOFF',
                                          wait=mc.WAIT)
        # and new servers still boot
        other = self.create_server()
        self.assertTrue(os.path.exists(mc.server_disk_path(other.id)))
