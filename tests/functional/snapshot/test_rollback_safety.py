"""Rollback with a safety set, end to end: what a failed rollback says it
changed, and the way back to every disk's bytes from before it."""

import datetime
import re

from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets

from tests.functional import minicloud as mc
from tests.functional.snapshot import test_snapshot

# The way back printed by a rollback that failed after changing a disk.
_WAY_BACK = re.compile(r'"backup-flows-manage snapshot rollback '
                       r'([0-9a-f-]{36}) --yes --no-safety-snapshot"')


class SafetyTestCase(test_snapshot.SnapshotTestCase):

    def shas(self, paths):
        return [mc.sha256_of(path) for path in paths]

    def error_line(self, err):
        lines = [line for line in err.splitlines()
                 if line.startswith('ERROR: ')]
        self.assertEqual(1, len(lines), err)
        self.assertNotIn('Traceback', err)
        return lines[0]

    def set_ids(self, server_id):
        return sorted(s['id'] for s in self.cli.json(
            'snapshot', 'list', '--server', server_id))

    def assertNoTemporaries(self, volume_id, safety_set_id=None):
        """No temporary volume of a safety image is left, nor an image of
        one that no safety set holds."""
        self.assertEqual([], [
            v.id for v in self.conn.block_storage.volumes()
            if v.name == 'backup-flows-safety-%s' % volume_id])
        kept = (set(self.cli.json('snapshot', 'show', safety_set_id)
                    ['image_ids']) if safety_set_id else set())
        left = {i.id for i in self.conn.image.images()
                if (i.name or '').endswith('-safety-image-%s' % volume_id)}
        self.assertEqual(set(), left - kept)

    def assertServerAsBefore(self, server, volume_id):
        self.assertServerStatus(server.id, 'ACTIVE')
        self.assertEqual('in-use', self.conn.block_storage.get_volume(
            volume_id).status)


class TestSafetySet(SafetyTestCase):

    def test_failure_after_the_volume_revert_then_back_to_the_safety_set(
            self):
        server, volumes = self.make_server(volumes=1)
        vid = volumes[0].id
        paths = self.disk_paths(server, volumes)
        day1 = self.write_generation(paths, 1)
        target = self.snapshot(server)
        day2 = self.write_generation(paths, 2)

        rc, _, err = self.cli.run('snapshot', 'rollback', target['id'],
                                  '--yes', fail_before='rebuild-server')

        self.assertEqual(1, rc, err)
        error = self.error_line(err)
        self.assertIn('volume %s reverted to the set' % vid, error)
        self.assertIn('root disk not rebuilt', error)
        self.assertIn('failure injected', error)
        safety_id = _WAY_BACK.search(error).group(1)
        self.cleanup_set(safety_id)
        # The message says what happened: the volume holds the set's
        # bytes, the root disk still its own.
        self.assertEqual([day2[0], day1[1]], self.shas(paths))
        self.assertServerAsBefore(server, vid)
        self.assertEqual(sorted([target['id'], safety_id]),
                         self.set_ids(server.id))

        back = self.cli.json('snapshot', 'rollback', safety_id, '--yes',
                             '--no-safety-snapshot')

        self.assertEqual(day2, self.shas(paths))
        self.assertIsNone(back['safety_set_id'])
        self.assertServerAsBefore(server, vid)
        # Re-imaged, the volume got its image metadata and bootable flag
        # back: none of the safety image's.
        volume = self.conn.block_storage.get_volume(vid)
        self.assertFalse(volume.is_bootable)
        self.assertEqual({}, volume.volume_image_metadata or {})
        # The target set is still whole, and the newest snapshot of the
        # volume: it can be rolled back to again.
        self.assertEqual('available', self.cli.json(
            'snapshot', 'show', target['id'])['status'])
        self.assertNoTemporaries(vid, safety_id)
        again = self.cli.json('snapshot', 'rollback', target['id'], '--yes',
                              '--no-safety-snapshot')
        self.assertEqual(day1, self.shas(paths))
        self.assertIsNone(again['safety_set_id'])

    def test_a_rollback_keeps_a_safety_set_unless_told_not_to(self):
        server, volumes = self.make_server(volumes=1)
        vid = volumes[0].id
        paths = self.disk_paths(server, volumes)
        day1 = self.write_generation(paths, 1)
        target = self.snapshot(server)
        day2 = self.write_generation(paths, 2)
        # A failure once the safety image is recorded in the safety set
        # (the upload's revert spares it) changes nothing and leaves
        # nothing behind: the safety set goes too.
        rc, _, err = self.cli.run('snapshot', 'rollback', target['id'],
                                  '--yes',
                                  fail_before='delete-safety-volume-%s' % vid)
        self.assertEqual(1, rc, err)
        self.assertIn('failed and was reverted', self.error_line(err))
        self.assertEqual([target['id']], self.set_ids(server.id))
        self.assertEqual(day2, self.shas(paths))
        self.assertServerAsBefore(server, vid)
        self.assertNoTemporaries(vid)

        result = self.cli.json('snapshot', 'rollback', target['id'],
                               '--yes', '--safety-ttl', '2h')

        safety_id = result['safety_set_id']
        self.assertIsNotNone(safety_id)
        self.cleanup_set(safety_id)
        self.assertEqual(day1, self.shas(paths))
        safety = self.cli.json('snapshot', 'show', safety_id)
        self.assertEqual('available', safety['status'])
        self.assertEqual(server.id, safety['server_id'])
        self.assertTrue(safety['name'].startswith('safety-before-rollback-'))
        self.assertEqual(7200, (
            datetime.datetime.fromisoformat(safety['expires_at']) -
            datetime.datetime.fromisoformat(safety['created_at'])
        ).total_seconds())
        # Its images hold the disks as they were just before: the volume's
        # is an image, no snapshot (Cinder reverts only to the newest).
        self.assertEqual([], safety['volume_snapshots'])
        self.assertEqual(sorted(day2), sorted(
            self.download_image_sha256(image_id)
            for image_id in safety['image_ids']))
        volume_images = [props.get(tags.VOLUME_ID) for _, props in
                         sets.member_images(self.conn, set_id=safety_id)
                         if props.get(tags.ROLE) == tags.ROLE_VOLUME]
        self.assertEqual([vid], volume_images)
        self.assertNoTemporaries(vid, safety_id)

        self.write_generation(paths, 3)
        unprotected = self.cli.json('snapshot', 'rollback', target['id'],
                                    '--yes', '--no-safety-snapshot')

        self.assertIsNone(unprotected['safety_set_id'])
        self.assertEqual(day1, self.shas(paths))
        self.assertEqual(sorted([target['id'], safety_id]),
                         self.set_ids(server.id))


class TestSafetyBadInput(SafetyTestCase):

    def test_bad_input_to_the_new_options_changes_nothing(self):
        server, _ = self.make_server()
        paths = self.disk_paths(server, [])
        target = self.snapshot(server)
        day1 = self.write_generation(paths, 1)
        events = mc.server_events(server.id)
        jobs = self.cli.json('job', 'list')
        for fragment, options in (
                ('not a duration', ['--yes', '--safety-ttl', 'tomorrow']),
                ('not a duration', ['--yes', '--safety-ttl', '0']),
                ('--no-safety-snapshot', ['--yes', '--no-safety-snapshot',
                                          '--safety-ttl', '1h']),
                ('--yes', ['--no-safety-snapshot'])):
            rc, _, err = self.cli.run('snapshot', 'rollback', target['id'],
                                      *options)
            self.assertEqual(2, rc, err)
            lines = err.strip().splitlines()
            self.assertEqual(1, len(lines), err)
            self.assertIn(fragment, lines[0])
            self.assertEqual([target['id']], self.set_ids(server.id))
        rc, _, err = self.cli.run('snapshot', 'rollback',
                                  '00000000-0000-0000-0000-000000000000',
                                  '--yes', '--no-safety-snapshot')
        self.assertEqual(2, rc, err)
        self.assertIn('not found', err)
        self.assertEqual(day1, self.shas(paths))
        self.assertEqual(events, mc.server_events(server.id))
        self.assertEqual(jobs, self.cli.json('job', 'list'))
