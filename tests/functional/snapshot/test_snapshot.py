"""Snapshot sets end to end: the CLI against the minicloud, bytes and leaks."""

import datetime
import os
import time

from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.flows import snapshot as snapshot_flows

from tests import flowutils
from tests.functional import cli
from tests.functional import minicloud as mc


def _cinder_time(value):
    parsed = datetime.datetime.fromisoformat(value.replace('Z', ''))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


class SnapshotTestCase(mc.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.cli = self.useFixture(cli.ManageFixture(self.clouds_yaml))

    def members(self, server_id):
        images = [i for i, p in sets.member_images(self.conn)
                  if p.get(tags.SERVER_ID) == server_id]
        snaps = [s for s, m in sets.member_snapshots(self.conn)
                 if m.get(tags.SERVER_ID) == server_id]
        return images, snaps

    def cleanup_set(self, set_id):
        def delete():
            try:
                snapshot_set = sets.get_set(self.conn, set_id)
            except Exception:
                return
            for image in snapshot_set.images:
                self.conn.image.delete_image(image['id'],
                                             ignore_missing=True)
            for snap in snapshot_set.snapshots:
                self._delete_snapshot(self.conn, snap['id'])
        self.addCleanup(delete)

    def snapshot(self, server, *args):
        result = self.cli.json('snapshot', 'create', server.id, *args)
        self.cleanup_set(result['id'])
        return result

    def events(self, server_id, names):
        return [e for e in mc.server_events(server_id) if e['event'] in names]

    def assertServerStatus(self, server_id, status):
        server = self.conn.compute.get_server(server_id)
        self.assertEqual(status, server.status)
        self.assertIsNone(server.task_state)

    def assertNoMembers(self, server_id):
        images, snaps = self.members(server_id)
        self.assertEqual([], [i.id for i in images])
        self.assertEqual([], [s.id for s in snaps])


class TestSnapshotCreate(SnapshotTestCase):

    def test_pause_set_holds_every_disk_at_snapshot_time(self):
        server, volumes = self.make_server(volumes=2)
        paths = self.disk_paths(server, volumes)
        expected = self.write_generation(paths, 1)

        result = self.snapshot(server, '--quiesce', 'pause', '--ttl', '1h')

        self.assertEqual('available', result['status'])
        self.assertEqual('crash-consistent-set', result['consistency'])
        self.assertEqual(server.id, result['server_id'])
        self.assertIsNotNone(result['expires_at'])
        # The root image holds the root disk's bytes...
        self.assertEqual(expected[0],
                         self.download_image_sha256(result['image_id']))
        # ... and each volume snapshot its volume's bytes.
        by_volume = {s['volume_id']: s for s in result['volume_snapshots']}
        self.assertEqual({v.id for v in volumes}, set(by_volume))
        for volume, digest in zip(volumes, expected[1:], strict=True):
            snap = by_volume[volume.id]
            self.assertEqual('available', snap['status'])
            self.assertEqual(digest,
                             mc.sha256_of(mc.snapshot_path(snap['id'])))
        # Every capture happened while the server was paused.
        events = self.events(server.id, ('pause', 'unpause', 'snapshot'))
        self.assertEqual(['pause', 'snapshot', 'unpause'],
                         [e['event'] for e in events])
        paused, unpaused = events[0]['time'], events[2]['time']
        for snap in by_volume.values():
            created = _cinder_time(self.conn.block_storage.get_snapshot(
                snap['id']).created_at)
            self.assertGreaterEqual(created, paused - 1)
            self.assertLessEqual(created, unpaused)
        self.assertServerStatus(server.id, 'ACTIVE')

    def test_quiesce_none_is_crash_and_never_pauses(self):
        server, volumes = self.make_server(volumes=1)
        self.write_generation(self.disk_paths(server, volumes), 1)
        result = self.snapshot(server)
        self.assertEqual('crash', result['consistency'])
        # Nova's createImage may itself freeze the guest around the root
        # capture (as libvirt does); "none" adds no pause and no stop.
        self.assertEqual([], self.events(server.id, ('pause', 'power_off')))
        self.assertServerStatus(server.id, 'ACTIVE')

    def test_quiesce_stop_is_cold_and_starts_the_server_again(self):
        server, volumes = self.make_server(volumes=1)
        expected = self.write_generation(self.disk_paths(server, volumes), 1)
        result = self.snapshot(server, '--quiesce', 'stop')
        self.assertEqual('cold', result['consistency'])
        self.assertEqual(
            ['power_off', 'snapshot', 'power_on'],
            [e['event'] for e in self.events(
                server.id, ('power_off', 'power_on', 'snapshot'))])
        self.assertEqual(expected[0],
                         self.download_image_sha256(result['image_id']))
        self.assertServerStatus(server.id, 'ACTIVE')

    def test_stopped_server_is_captured_cold_and_stays_stopped(self):
        server, _ = self.make_server()
        self.conn.compute.stop_server(server)
        self.conn.compute.wait_for_server(server, status='SHUTOFF',
                                          wait=mc.WAIT,
                                          interval=mc.POLL)
        result = self.snapshot(server, '--quiesce', 'pause')
        self.assertEqual('cold', result['consistency'])
        self.assertServerStatus(server.id, 'SHUTOFF')

    def test_guest_agent_without_agent_downgrades_or_fails(self):
        server, _ = self.make_server(image=mc.BASE_IMAGE_NOAGENT)
        rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                  '--quiesce', 'guest-agent',
                                  '--require-consistency')
        self.assertEqual(1, rc, err)
        self.assertIn('hw_qemu_guest_agent', err)
        self.assertNoMembers(server.id)

        result = self.snapshot(server, '--quiesce', 'guest-agent')
        self.assertEqual('crash-consistent-set', result['consistency'])
        self.assertEqual('filesystem', result['requested_consistency'])
        self.assertIn('hw_qemu_guest_agent', result['downgrade_reason'])
        self.assertServerStatus(server.id, 'ACTIVE')


class TestSnapshotLifecycle(SnapshotTestCase):
    # snapshot expire acts on every set of the project
    OWN_PROJECT = True

    def test_list_show_delete(self):
        server, volumes = self.make_server(volumes=1)
        created = self.snapshot(server, '--name', 'before-upgrade')
        listed = self.cli.json('snapshot', 'list', '--server', server.id)
        self.assertEqual([created['id']], [s['id'] for s in listed])
        shown = self.cli.json('snapshot', 'show', created['id'])
        for key in ('id', 'server_id', 'status', 'consistency',
                    'created_at', 'expires_at', 'image_id',
                    'volume_snapshots'):
            self.assertEqual(created[key], shown[key], key)
        self.assertEqual('before-upgrade', shown['name'])

        self.cli.json('snapshot', 'delete', created['id'])
        self.assertNoMembers(server.id)
        rc, _, err = self.cli.run('snapshot', 'show', created['id'])
        self.assertEqual(2, rc)
        self.assertIn('not found', err)

    def test_expire_deletes_only_expired_sets(self):
        server, _ = self.make_server()
        short = self.snapshot(server, '--ttl', '1s')
        long = self.snapshot(server, '--ttl', '1d')
        time.sleep(2)
        dry = self.cli.json('snapshot', 'expire', '--dry-run')
        self.assertIn(short['id'], [row['id'] for row in dry])
        self.assertNotIn(long['id'], [row['id'] for row in dry])
        self.assertEqual(2, len(self.cli.json('snapshot', 'list',
                                              '--server', server.id)))
        self.cli.json('snapshot', 'expire')
        remaining = self.cli.json('snapshot', 'list', '--server', server.id)
        self.assertEqual([long['id']], [s['id'] for s in remaining])


class TestRollback(SnapshotTestCase):

    def test_rollback_returns_every_disk_to_the_set(self):
        server, volumes = self.make_server(volumes=2)
        paths = self.disk_paths(server, volumes)
        day1 = self.write_generation(paths, 1)
        result = self.snapshot(server, '--quiesce', 'pause')
        day2 = self.write_generation(paths, 2)
        self.assertNotEqual(day1, day2)

        rc, _, err = self.cli.run('snapshot', 'rollback', result['id'])
        self.assertEqual(2, rc)
        self.assertIn('--yes', err)
        self.assertEqual(day2, [mc.sha256_of(p) for p in paths])

        done = self.cli.json('snapshot', 'rollback', result['id'], '--yes')
        self.cleanup_set(done['safety_set_id'])
        self.assertEqual(day1, [mc.sha256_of(p) for p in paths])
        self.assertServerStatus(server.id, 'ACTIVE')
        for volume in volumes:
            current = self.conn.block_storage.get_volume(volume.id)
            self.assertEqual('in-use', current.status)

    def test_rollback_keeps_a_stopped_server_stopped(self):
        server, _ = self.make_server()
        paths = self.disk_paths(server, [])
        day1 = self.write_generation(paths, 1)
        result = self.snapshot(server)
        self.conn.compute.stop_server(server)
        self.conn.compute.wait_for_server(server, status='SHUTOFF',
                                          wait=mc.WAIT,
                                          interval=mc.POLL)
        self.write_generation(paths, 2)
        done = self.cli.json('snapshot', 'rollback', result['id'], '--yes')
        self.cleanup_set(done['safety_set_id'])
        self.assertEqual(day1, [mc.sha256_of(p) for p in paths])
        self.assertServerStatus(server.id, 'SHUTOFF')

    def test_rollback_refuses_when_the_server_is_gone(self):
        server, _ = self.make_server()
        result = self.snapshot(server)
        self._delete_server(self.conn, server.id)
        rc, _, err = self.cli.run('snapshot', 'rollback', result['id'],
                                  '--yes')
        self.assertEqual(2, rc)
        self.assertIn('no longer exists', err)


class TestReverts(SnapshotTestCase):
    """A failure injected before each task in turn. The injection points
    are shared out between PARTS tests (each with a server of its own) so
    that they run side by side."""

    PARTS = 2

    def test_create_failure_after_each_task_leaves_nothing_1(self):
        self._create_failure_after_each_task(0)

    def test_create_failure_after_each_task_leaves_nothing_2(self):
        self._create_failure_after_each_task(1)

    def _create_failure_after_each_task(self, part):
        server, volumes = self.make_server(volumes=1)
        flow = snapshot_flows.get_flow(
            {'kind': 'image'},
            [{'volume_id': volumes[0].id, 'device': '/dev/vdb'}], 'pause')
        names = flowutils.injection_points(flow)
        self.assertGreater(len(names), 5)
        for name in flowutils.part(names, part, self.PARTS):
            rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                      '--quiesce', 'pause',
                                      fail_before=name)
            self.assertEqual(1, rc, '%s: %s' % (name, err))
            self.assertIn('failure injected', err)
            self.assertNoMembers(server.id)
            self.assertServerStatus(server.id, 'ACTIVE')
            self.assertEqual('in-use', self.conn.block_storage.get_volume(
                volumes[0].id).status)
        jobs = self.cli.json('job', 'list')
        self.assertEqual({'REVERTED'}, {job['state'] for job in jobs})

    def test_rollback_failure_after_each_task_restores_the_server_1(self):
        self._rollback_failure_after_each_task(0)

    def test_rollback_failure_after_each_task_restores_the_server_2(self):
        self._rollback_failure_after_each_task(1)

    def _rollback_failure_after_each_task(self, part):
        server, volumes = self.make_server(volumes=1)
        result = self.snapshot(server)
        names = ['stop-server',
                 'detach-volume-%s' % volumes[0].id,
                 'revert-volume-%s' % volumes[0].id,
                 'attach-volume-%s' % volumes[0].id,
                 'rebuild-server', 'start-server', '@end']
        for name in flowutils.part(names, part, self.PARTS):
            # The safety set's own tasks: test_rollback_safety.
            rc, _, err = self.cli.run('snapshot', 'rollback', result['id'],
                                      '--yes', '--no-safety-snapshot',
                                      fail_before=name)
            self.assertEqual(1, rc, '%s: %s' % (name, err))
            self.assertServerStatus(server.id, 'ACTIVE')
            volume = self.conn.block_storage.get_volume(volumes[0].id)
            self.assertEqual('in-use', volume.status, name)
        # The set is untouched and still usable.
        self.assertEqual('available',
                         self.cli.json('snapshot', 'show',
                                       result['id'])['status'])


class TestFailedRevert(SnapshotTestCase):

    def test_each_revert_failing_in_turn_still_unpauses(self):
        server, volumes = self.make_server(volumes=1)
        snapshot_task = 'create-volume-snapshot-%s' % volumes[0].id
        for failing in ('pause-server', 'create-root-image', snapshot_task):
            rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                      '--quiesce', 'pause',
                                      fail_before='unpause-server',
                                      fail_revert=failing)
            self.assertEqual(1, rc, err)
            self.assertIn('the revert of %s failed' % failing, err)
            images, snaps = self.members(server.id)
            if failing == 'pause-server':
                # the unpause itself was skipped: the server stays paused
                # (the one case a failed revert cannot make good)
                self.assertEqual([], images + snaps)
                self.conn.compute.unpause_server(server)
                mc.wait_for_status(self.conn.compute.get_server, server.id,
                                   'active', task_state=None)
            # Only the failed revert's own resource is left.
            self.assertEqual(
                (int(failing == 'create-root-image'),
                 int(failing == snapshot_task)),
                (len(images), len(snaps)), failing)
            for image in images:
                self.conn.image.delete_image(image.id)
            for snap in snaps:
                self._delete_snapshot(self.conn, snap.id)
            self.assertServerStatus(server.id, 'ACTIVE')

    def test_a_failed_revert_still_unpauses_the_server(self):
        server, volumes = self.make_server(volumes=1)
        # Fail while the server is paused; the root image's revert fails.
        rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                  '--quiesce', 'pause',
                                  fail_before='unpause-server',
                                  fail_revert='create-root-image')
        self.assertEqual(1, rc, err)
        errors = [line for line in err.splitlines()
                  if line.startswith('ERROR: ')]
        self.assertEqual(1, len(errors), err)
        self.assertIn('the revert of create-root-image failed', errors[0])
        self.assertNotIn('Traceback', err)
        # The reverts before and after the failed one ran: the volume
        # snapshot is gone and the server runs again.
        self.assertServerStatus(server.id, 'ACTIVE')
        self.assertEqual(['pause', 'snapshot', 'unpause'], [
            e['event'] for e in self.events(
                server.id, ('pause', 'unpause', 'snapshot'))])
        images, snaps = self.members(server.id)
        self.assertEqual([], [snap.id for snap in snaps])
        # What the failed revert should have removed is left, and found by
        # the job id it carries.
        for image in images:
            self.cleanup_image(image.id)
        job = self.cli.json('job', 'list')[0]
        self.assertEqual([job['id']], [
            props.get(tags.JOB_ID) for image, props in
            sets.member_images(self.conn)
            if props.get(tags.SERVER_ID) == server.id])
        self.assertEqual('REVERTED', job['state'])
        self.assertEqual(['create-root-image'], list(self.cli.json(
            'job', 'show', job['id'])['failed_reverts']))


class TestJobCleanup(SnapshotTestCase):

    def test_cleanup_deletes_only_what_finished_jobs_left(self):
        server, _ = self.make_server()
        kept = self.snapshot(server)
        rc, _, err = self.cli.run('snapshot', 'create', server.id,
                                  fail_before='@end',
                                  fail_revert='create-root-image')
        self.assertEqual(1, rc, err)
        images, _ = self.members(server.id)
        left = [i.id for i in images if i.id != kept['image_id']]
        self.assertEqual(1, len(left), images)
        for image_id in left:
            self.cleanup_image(image_id)

        # Bad input changes nothing; a job too young is not touched.
        rc, _, err = self.cli.run('job', 'cleanup', '--older-than',
                                  'tomorrow')
        self.assertEqual(2, rc, err)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn('not a duration', err)
        self.assertEqual([], self.cli.json('job', 'cleanup',
                                           '--older-than', '1d'))
        dry = self.cli.json('job', 'cleanup', '--dry-run')
        self.assertEqual([('image', left[0], 'would be deleted')],
                         [(r['kind'], r['id'], r['result']) for r in dry])
        self.assertEqual(2, len(self.members(server.id)[0]))

        done = self.cli.json('job', 'cleanup')

        self.assertEqual([('image', left[0], 'deleted', 'REVERTED')],
                         [(r['kind'], r['id'], r['result'], r['job_state'])
                          for r in done])
        # The successful job's snapshot set is kept, whole and usable.
        images, _ = self.members(server.id)
        self.assertEqual([kept['image_id']], [i.id for i in images])
        self.assertEqual('available', self.cli.json(
            'snapshot', 'show', kept['id'])['status'])
        self.assertEqual([], self.cli.json('job', 'cleanup'))


class TestResume(SnapshotTestCase):

    def test_kill_9_then_resume_completes_without_duplicates(self):
        server, volumes = self.make_server(volumes=1)
        proc = self.cli.popen('snapshot', 'create', server.id,
                              '--quiesce', 'pause')
        self.kill_9_when(proc, lambda: self.members(server.id)[0],
                         interval=0.2)

        jobs = self.cli.json('job', 'list')
        self.assertEqual(['INTERRUPTED'], [job['state'] for job in jobs])
        rc, out, err = self.cli.run('--format', 'json', 'job', 'resume',
                                    jobs[0]['id'])
        self.assertEqual(0, rc, err)

        images, snaps = self.members(server.id)
        self.assertEqual(1, len(images))
        self.assertEqual(1, len(snaps))
        for image in images:
            self.cleanup_image(image.id)
        for snap in snaps:
            self.addCleanup(self._delete_snapshot, self.conn, snap.id)
        listed = self.cli.json('snapshot', 'list', '--server', server.id)
        self.assertEqual(['available'], [s['status'] for s in listed])
        self.assertEqual('SUCCESS', self.cli.json(
            'job', 'show', jobs[0]['id'])['state'])
        self.assertServerStatus(server.id, 'ACTIVE')


class TestAbort(SnapshotTestCase):

    def test_kill_9_while_paused_then_abort(self):
        server, volumes = self.make_server(volumes=1)
        proc = self.cli.popen('snapshot', 'create', server.id,
                              '--quiesce', 'pause',
                              hang_before='unpause-server')
        mc.wait_for_status(self.conn.compute.get_server, server.id,
                           'paused', task_state=None)
        self.kill_9_when(proc, lambda: all(self.members(server.id)),
                         wait=60, interval=0.2)
        jobs = self.cli.json('job', 'list')
        self.assertEqual(['INTERRUPTED'], [job['state'] for job in jobs])

        aborted = self.cli.json('job', 'abort', jobs[0]['id'])

        self.assertEqual('REVERTED', aborted['state'])
        self.assertServerStatus(server.id, 'ACTIVE')
        self.assertNoMembers(server.id)
        self.assertEqual([], self.cli.json('snapshot', 'list', '--server',
                                           server.id))
        self.assertEqual('in-use', self.conn.block_storage.get_volume(
            volumes[0].id).status)


class TestBadInput(SnapshotTestCase):
    # assertRefused compares every set member of the project
    OWN_PROJECT = True

    def all_members(self):
        images = [i.id for i, _ in sets.member_images(self.conn)]
        snaps = [s.id for s, _ in sets.member_snapshots(self.conn)]
        return sorted(images + snaps)

    def assertRefused(self, rc_expected, fragment, *argv):
        before = self.all_members()
        rc, out, err = self.cli.run(*argv)
        self.assertEqual(rc_expected, rc, err)
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertIn(fragment, lines[0])
        self.assertNotIn('Traceback', err)
        self.assertEqual(before, self.all_members())

    def test_bad_input_is_refused_and_creates_nothing(self):
        server, _ = self.make_server()
        self.assertRefused(2, 'not found', 'snapshot', 'create',
                           'no-such-server')
        self.assertRefused(2, "'freeze'", 'snapshot', 'create', server.id,
                           '--quiesce', 'freeze')
        self.assertRefused(2, 'not a duration', 'snapshot', 'create',
                           server.id, '--ttl', 'tomorrow')
        self.assertRefused(2, 'nowhere', '--os-cloud', 'nowhere',
                           'snapshot', 'create', server.id)
        self.assertRefused(2, 'not found', 'snapshot', 'show',
                           '00000000-0000-0000-0000-000000000000')
        self.assertRefused(2, 'not found', 'snapshot', 'rollback',
                           '00000000-0000-0000-0000-000000000000', '--yes')
        self.assertRefused(2, 'not found', 'snapshot', 'delete',
                           '00000000-0000-0000-0000-000000000000')

    def test_server_in_error_is_refused(self):
        server, _ = self.make_server()
        self.admin_conn.compute.reset_server_state(server, 'error')
        self.addCleanup(self.admin_conn.compute.reset_server_state, server,
                        'active')
        self.assertRefused(2, 'ERROR', 'snapshot', 'create', server.id)

    def test_unreachable_cloud(self):
        clouds = os.path.join(self.cli.state, 'clouds.yaml')
        with open(clouds, 'w') as f:
            f.write('clouds:\n  dead:\n    auth:\n'
                    '      auth_url: http://127.0.0.1:9/v3\n'
                    '      username: u\n      password: p\n'
                    '      project_name: p\n'
                    '      user_domain_name: Default\n'
                    '      project_domain_name: Default\n')
        self.cli.env['OS_CLIENT_CONFIG_FILE'] = clouds
        rc, _, err = self.cli.run('--os-cloud', 'dead', 'snapshot',
                                  'create', 'anything')
        self.assertEqual(1, rc)
        self.assertIn('cannot be reached', err)
        self.assertNotIn('Traceback', err)
