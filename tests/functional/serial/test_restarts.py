"""Cloud services restarted under running servers and volumes."""

import os

from tests.functional import minicloud as mc

MiB = 1024 * 1024


class TestComputeRestart(mc.MiniCloudTestCase):

    def test_servers_survive_nova_compute_restart(self):
        server = self.create_server(flavor=mc.SMALL_FLAVOR)
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
                                          wait=mc.WAIT,
                                          interval=mc.POLL)
        # and new servers still boot
        other = self.create_server(flavor=mc.SMALL_FLAVOR)
        self.assertTrue(os.path.exists(mc.server_disk_path(other.id)))
