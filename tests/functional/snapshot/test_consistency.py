"""The consistency level recorded is the level reached, never more.

Paused and suspended servers with each quiesce mode, and a guest agent
(emulated by the minicloud's virt driver, selected by the server's
``minicloud_guest_agent`` metadata) that answers, fails or times out.
"""

from tests.functional import minicloud as mc
from tests.functional.snapshot import test_snapshot

AGENT_KEY = 'minicloud_guest_agent'
MODES = ('none', 'pause', 'guest-agent', 'stop')
POWER_EVENTS = ('pause', 'unpause', 'suspend', 'resume', 'power_off',
                'power_on')


class TestNotRunningServers(test_snapshot.SnapshotTestCase):

    def _each_mode_captures_as_it_is(self, status, action):
        server, _ = self.make_server()
        expected = self.write_generation(self.disk_paths(server, []), 1)
        getattr(self.conn.compute, action + '_server')(server)
        self.conn.compute.wait_for_server(server, status=status,
                                          wait=mc.WAIT, interval=mc.POLL)
        before = len(self.events(server.id, POWER_EVENTS))
        for mode in MODES:
            result = self.snapshot(server, '--quiesce', mode)
            # its disks do not change: every disk at one instant, no more
            self.assertEqual('crash-consistent-set', result['consistency'],
                             mode)
            if mode in ('stop', 'guest-agent'):
                self.assertIn(status, result['downgrade_reason'], mode)
            else:
                self.assertNotIn('downgrade_reason', result, mode)
            self.assertEqual(expected[0],
                             self.download_image_sha256(result['image_id']))
        # left as it was: never resumed, unpaused, stopped or started
        self.assertEqual(before, len(self.events(server.id, POWER_EVENTS)))
        self.assertServerStatus(server.id, status)
        rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                  '--quiesce', 'stop',
                                  '--require-consistency')
        self.assertEqual(1, rc, err)
        self.assertIn(status, err)
        self.assertNotIn('Traceback', err)
        self.assertEqual(len(MODES), len(self.members(server.id)[0]))

    def test_paused_server_each_mode(self):
        self._each_mode_captures_as_it_is('PAUSED', 'pause')

    def test_suspended_server_each_mode(self):
        self._each_mode_captures_as_it_is('SUSPENDED', 'suspend')

    def test_paused_server_nova_must_freeze_is_refused(self):
        server, _ = self.make_server(image=mc.BASE_IMAGE_QUIESCE)
        self.conn.compute.pause_server(server)
        self.conn.compute.wait_for_server(server, status='PAUSED',
                                          wait=mc.WAIT, interval=mc.POLL)
        rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                  '--quiesce', 'none')
        self.assertEqual(2, rc, err)
        self.assertIn('os_require_quiesce', err)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertNoMembers(server.id)
        self.assertServerStatus(server.id, 'PAUSED')


class TestGuestAgent(test_snapshot.SnapshotTestCase):

    def test_confirmed_freeze_is_filesystem(self):
        server, _ = self.make_server(image=mc.BASE_IMAGE_QUIESCE)
        expected = self.write_generation(self.disk_paths(server, []), 1)
        result = self.snapshot(server, '--quiesce', 'guest-agent',
                               '--require-consistency')
        self.assertEqual('filesystem', result['consistency'])
        # frozen while the point-in-time copy is extracted, thawed before
        # the upload
        self.assertEqual(
            ['quiesce', 'unquiesce', 'snapshot_extracted', 'snapshot'],
            [e['event'] for e in self.events(
                server.id, ('quiesce', 'unquiesce', 'snapshot_extracted',
                            'snapshot'))])
        self.assertEqual(expected[0],
                         self.download_image_sha256(result['image_id']))
        self.assertServerStatus(server.id, 'ACTIVE')

    def test_agent_failing_or_timing_out_is_never_filesystem(self):
        server, _ = self.make_server(image=mc.BASE_IMAGE_QUIESCE)
        for behaviour in ('fail', 'timeout'):
            self.conn.compute.set_server_metadata(
                server, **{AGENT_KEY: behaviour})
            rc, out, err = self.cli.run('snapshot', 'create', server.id,
                                        '--quiesce', 'guest-agent')
            # Nova fails the snapshot of an image requiring the freeze
            self.assertEqual(1, rc, behaviour)
            self.assertIn('freeze', err, behaviour)
            self.assertNotIn('Traceback', err)
            self.assertNoMembers(server.id)
            self.assertServerStatus(server.id, 'ACTIVE')
        self.assertEqual(2, len(self.events(server.id,
                                            ('quiesce_failed',))))

    def test_unconfirmed_freeze_is_downgraded_or_refused(self):
        # the image has a guest agent but does not require quiescing: Nova
        # goes on silently when the agent fails
        server, _ = self.make_server(image=mc.BASE_IMAGE)
        self.conn.compute.set_server_metadata(server, **{AGENT_KEY: 'fail'})
        rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                  '--quiesce', 'guest-agent',
                                  '--require-consistency')
        self.assertEqual(1, rc, err)
        self.assertIn('os_require_quiesce', err)
        self.assertNoMembers(server.id)
        result = self.snapshot(server, '--quiesce', 'guest-agent')
        self.assertEqual('crash-consistent-set', result['consistency'])
        self.assertEqual('filesystem', result['requested_consistency'])
        self.assertIn('os_require_quiesce', result['downgrade_reason'])
        self.assertEqual(['quiesce_failed'],
                         [e['event'] for e in self.events(
                             server.id, ('quiesce', 'quiesce_failed'))])
        self.assertServerStatus(server.id, 'ACTIVE')


class TestPauseOnlyWhenNeeded(test_snapshot.SnapshotTestCase):

    def test_single_disk_server_is_not_paused(self):
        server, _ = self.make_server()
        expected = self.write_generation(self.disk_paths(server, []), 1)
        result = self.snapshot(server, '--quiesce', 'pause')
        self.assertEqual('crash-consistent-set', result['consistency'])
        self.assertEqual([], self.events(server.id, ('pause', 'unpause')))
        self.assertEqual(expected[0],
                         self.download_image_sha256(result['image_id']))
