"""Restore end to end: the CLI against the minicloud, bytes and leaks.

Backups are written straight through the repository API (disk files of a
stopped server, its server definition as the backup flow records it), so
these tests depend on the restore side only.
"""

import json
import os
import re

import fixtures
from openstack import exceptions as sdk_exc

from backup_flows import tags
from backup_flows.cloud import server_definition
from backup_flows.cloud import servers
from backup_flows.cloud import snapshot_sets as sets
from backup_flows.flows import restore as restore_flow
from backup_flows.repository import Repository

from tests import flowutils
from tests.functional import cli
from tests.functional import minicloud as mc

MiB = 1 << 20
# Regions written into every disk: (offset, length); within the 64 MiB root
# disk of an m1.nano server and the 64 MiB of a minicloud-small volume.
REGIONS = ((4096, 64 << 10), (1 * MiB, 256 << 10), (30 * MiB + 4096, 64 << 10),
           (60 * MiB, 128 << 10))
JOB_ID_RE = re.compile(r'job ([0-9a-f-]{36})')



class RestoreTestCase(mc.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.cli = self.useFixture(cli.ManageFixture(self.clouds_yaml))
        self.repo_url = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'repo')
        Repository.init(self.repo_url).close()

    # -- sources --------------------------------------------------------------

    def make_server(self, volumes=0, **kwargs):
        server = self.create_server(flavor=mc.SMALL_FLAVOR, **kwargs)
        attached = []
        for _ in range(volumes):
            volume = self.create_volume(size=1,
                                        volume_type=mc.SMALL_VOLUME_TYPE)
            self.conn.compute.create_volume_attachment(server,
                                                       volume_id=volume.id)
            self.addCleanup(self._detach_if_attached, server.id, volume.id)
            attached.append(self.wait_volume(volume.id, 'in-use'))
        return server, attached

    def _detach_if_attached(self, server_id, volume_id):
        # Unlike attach_volume's cleanup, accepts a volume deleted already.
        try:
            volume = self.conn.block_storage.get_volume(volume_id)
        except sdk_exc.NotFoundException:
            return
        if volume.status != 'available':
            self.conn.compute.delete_volume_attachment(
                server_id, volume_id, ignore_missing=True)
            self.wait_volume(volume_id, 'available')

    def make_boot_from_volume_server(self):
        image = self.conn.image.find_image(mc.BASE_IMAGE,
                                           ignore_missing=False)
        volume = self.create_volume(size=1, image_id=image.id,
                                    volume_type=mc.SMALL_VOLUME_TYPE)
        server = self.create_server(
            flavor=mc.SMALL_FLAVOR, block_device_mapping=[{
                'boot_index': 0, 'uuid': volume.id, 'source_type': 'volume',
                'destination_type': 'volume',
                'delete_on_termination': False}])
        return server, volume

    def write_pattern(self, path, label):
        for offset, length in REGIONS:
            pattern = ('%s-off%d|' % (label, offset)).encode()
            data = (pattern * (length // len(pattern) + 1))[:length]
            mc.write_disk(path, offset, data)

    def stop(self, server):
        self.conn.compute.stop_server(server)
        mc.wait_for_status(self.conn.compute.get_server, server.id,
                           'shutoff', task_state=None)

    def backup(self, server):
        """Back the (stopped) server up; return (backup id, definition)."""
        facts = servers.describe(self.conn, server.id)
        definition = server_definition.capture(self.conn, facts)
        with Repository.open(self.repo_url) as repo:
            with repo.start_backup() as session:
                for disk in definition['disks']:
                    if disk['role'] == tags.ROLE_ROOT_IMAGE:
                        path = mc.server_disk_path(server.id)
                    else:
                        path = mc.volume_path(disk['volume_id'])
                    with open(path, 'rb') as stream:
                        session.write_disk(disk['disk'], stream)
                backup_id = session.commit(
                    server=server.id,
                    metadata={'server': definition, 'consistency': 'cold',
                              'requested_consistency': 'cold',
                              'source': {'cloud': 'minicloud'}})
        return backup_id, definition

    def backup_cli(self, server):
        """Back the server up with ``backup create``; as :meth:`backup`."""
        result = self.cli.json('backup', 'create', server.id,
                               '--repository', self.repo_url,
                               '--quiesce', 'stop')
        with Repository.open(self.repo_url) as repo:
            document = repo.show_backup(result['id'])
        return result['id'], document['metadata']['server']

    def manifest(self, backup_id):
        with Repository.open(self.repo_url) as repo:
            return {d['name']: d for d in repo.show_backup(backup_id)['disks']}

    def delete_original(self, server, volumes):
        self._delete_server(self.conn, server.id)
        for volume in volumes:
            self._delete_volume(self.conn, volume.id)
        self.assertIsNone(self.conn.compute.find_server(server.id))

    # -- restores -------------------------------------------------------------

    def restore(self, backup_id, *args, conn=None):
        """Restore through the CLI; the restored resources go at cleanup."""
        result = self.cli.json('backup', 'restore', backup_id,
                               '--repository', self.repo_url, *args)
        self.addCleanup(self.delete_job_resources, result['job_id'],
                        conn or self.conn)
        return result

    def restore_fails(self, *argv, fail_before=None):
        """Run a restore expected to fail; return (rc, error, job id).

        The error is the one ``ERROR:`` line of stderr (logs go there too).

        The job id is the one the error names, else the only job of this
        test's flow database (None when no job ran).
        """
        rc, _, err = self.cli.run('--format', 'json', 'backup', 'restore',
                                  *argv, fail_before=fail_before)
        errors = [line for line in err.splitlines()
                  if line.startswith('ERROR: ')]
        self.assertEqual(1, len(errors), err)
        err = errors[0]
        match = JOB_ID_RE.search(err)
        if match:
            job_id = match.group(1)
        else:
            jobs = self.cli.json('job', 'list')
            self.assertLessEqual(len(jobs), 1)
            job_id = jobs[0]['id'] if jobs else None
        if job_id:
            self.addCleanup(self.delete_job_resources, job_id, self.conn)
        return rc, err, job_id

    def job_resources(self, job_id, conn):
        srvs = [s for s in conn.compute.servers(details=True)
                if (s.metadata or {}).get(tags.JOB_ID) == job_id]
        vols = [v for v in conn.block_storage.volumes()
                if (v.metadata or {}).get(tags.JOB_ID) == job_id]
        # Glance's property filters are dropped by openstacksdk: filter here.
        imgs = [i for i in conn.image.images()
                if sets.image_properties(i).get(tags.JOB_ID) == job_id]
        return srvs, vols, imgs

    def delete_job_resources(self, job_id, conn):
        srvs, vols, imgs = self.job_resources(job_id, conn)
        for srv in srvs:
            self._delete_server(conn, srv.id)
        for vol in vols:
            self._delete_volume(conn, vol.id)
        for img in imgs:
            conn.image.delete_image(img.id, ignore_missing=True)

    def assertNothingLeft(self, job_id, name, conn=None):
        """No server, volume or image of the job (or named after it)."""
        conn = conn or self.conn
        srvs, vols, imgs = self.job_resources(job_id, conn)
        self.assertEqual(([], [], []), ([s.id for s in srvs],
                                        [v.id for v in vols],
                                        [i.id for i in imgs]))
        self.assertEqual([], [s.id for s in conn.compute.servers(
            name=re.escape(name)) if s.name.startswith(name)])
        self.assertEqual([], [v.id for v in conn.block_storage.volumes()
                              if (v.name or '').startswith(name)])
        self.assertEqual([], [i.id for i in conn.image.images()
                              if (i.name or '').startswith(name)])

    def assertRestoredVolume(self, volume_id, disk, conn=None):
        conn = conn or self.conn
        self.assertEqual(disk['sha256'],
                         mc.sha256_of(mc.volume_path(volume_id),
                                      length=disk['size']))
        return conn.block_storage.get_volume(volume_id)


class TestRestore(RestoreTestCase):

    def test_server_with_root_disk_and_two_volumes(self):
        server, volumes = self.make_server(
            volumes=2, metadata={'app': 'web'}, tags=['blue'])
        root_path = mc.server_disk_path(server.id)
        self.write_pattern(root_path, 'root')
        for n, volume in enumerate(volumes):
            self.write_pattern(mc.volume_path(volume.id), 'volume%d' % n)
        self.stop(server)
        originals = [mc.sha256_of(root_path)] + [
            mc.sha256_of(mc.volume_path(v.id)) for v in volumes]
        backup_id, definition = self.backup(server)
        disks = self.manifest(backup_id)
        names = [d['disk'] for d in definition['disks']]
        self.assertEqual(originals, [disks[n]['sha256'] for n in names])
        self.delete_original(server, volumes)

        name = self._name('restored')
        result = self.restore(backup_id, '--name', name)

        new = self.conn.compute.get_server(result['server_id'])
        self.assertEqual(('ACTIVE', name), (new.status, new.name))
        self.assertEqual(backup_id, result['backup_id'])
        # The root disk holds exactly the backed-up bytes.
        root = disks[names[0]]
        self.assertEqual(root['sha256'],
                         mc.sha256_of(mc.server_disk_path(new.id)))
        # The restored root image is the server's image and is kept.
        self.assertEqual(result['image_id'], new.image['id'])
        image = self.conn.image.get_image(result['image_id'])
        self.assertEqual(('active', root['size']),
                         (image.status, image.size))
        # Two new volumes holding the volumes' bytes, attached to it.
        self.assertEqual(2, len(result['volume_ids']))
        self.assertEqual(set(), set(result['volume_ids']) &
                         {v.id for v in volumes})
        attached = {a.volume_id for a in
                    self.conn.compute.volume_attachments(new)}
        self.assertEqual(set(result['volume_ids']), attached)
        for volume_id, disk_name in zip(result['volume_ids'], names[1:],
                                        strict=True):
            volume = self.assertRestoredVolume(volume_id, disks[disk_name])
            self.assertEqual(('in-use', 1), (volume.status, volume.size))
            self.assertEqual(result['job_id'],
                             volume.metadata[tags.JOB_ID])
        # Flavor, network, metadata and tags come from the definition.
        self.assertEqual(mc.SMALL_FLAVOR, new.flavor['original_name'])
        self.assertEqual(definition['networks'][0]['network_id'],
                         result['networks'][0])
        self.assertEqual('web', new.metadata['app'])
        self.assertEqual(result['job_id'],
                         new.metadata[tags.JOB_ID])
        self.assertEqual(['blue'], new.tags)
        # The temporary images of the volumes are gone.
        _, _, images = self.job_resources(result['job_id'], self.conn)
        self.assertEqual([result['image_id']], [i.id for i in images])

    def test_boot_from_volume_server(self):
        server, boot = self.make_boot_from_volume_server()
        self.write_pattern(mc.volume_path(boot.id), 'boot')
        self.stop(server)
        original = mc.sha256_of(mc.volume_path(boot.id))
        backup_id, definition = self.backup(server)
        self.assertTrue(definition['boot_from_volume'])
        self.assertEqual('root-volume', definition['disks'][0]['role'])
        disk = self.manifest(backup_id)[definition['disks'][0]['disk']]
        self.assertEqual(original, disk['sha256'])
        self.delete_original(server, [boot])

        result = self.restore(backup_id, '--name', self._name('restored'))

        new = self.conn.compute.get_server(result['server_id'])
        self.assertEqual('ACTIVE', new.status)
        self.assertIsNone(result['image_id'])
        self.assertFalse(new.image and new.image.get('id'))
        self.assertEqual(1, len(result['volume_ids']))
        volume = self.assertRestoredVolume(result['volume_ids'][0], disk)
        self.assertTrue(volume.is_bootable)
        self.assertEqual([volume.id],
                         [a.volume_id for a in
                          self.conn.compute.volume_attachments(new)])
        # The image properties of the boot volume were carried over.
        self.assertEqual('yes', volume.volume_image_metadata.get(
            'hw_qemu_guest_agent'))
        self.assertFalse(os.path.exists(mc.server_disk_path(new.id)))
        srvs, vols, imgs = self.job_resources(result['job_id'], self.conn)
        self.assertEqual(([new.id], [volume.id], []),
                         ([s.id for s in srvs], [v.id for v in vols],
                          [i.id for i in imgs]))

    def test_restore_into_another_project(self):
        server, _ = self.make_server()
        self.write_pattern(mc.server_disk_path(server.id), 'root')
        self.stop(server)
        original = mc.sha256_of(mc.server_disk_path(server.id))
        # The whole story: "backup create", then restore elsewhere.
        backup_id, definition = self.backup_cli(server)
        disk = self.manifest(backup_id)[definition['disks'][0]['disk']]
        self.assertEqual(original, disk['sha256'])
        alt = mc.connection('minicloud-alt')

        result = self.restore(backup_id, '--target-cloud', 'minicloud-alt',
                              conn=alt)

        new = alt.compute.get_server(result['server_id'])
        self.assertEqual('ACTIVE', new.status)
        self.assertEqual(alt.current_project_id, new.project_id)
        self.assertIsNone(self.conn.compute.find_server(new.id))
        self.assertEqual(disk['sha256'],
                         mc.sha256_of(mc.server_disk_path(new.id)))
        image = alt.image.get_image(result['image_id'])
        self.assertEqual(alt.current_project_id, image.owner)
        # The original image's guest properties were carried over.
        self.assertEqual('yes', image.hw_qemu_guest_agent)
        self.assertEqual('minicloud-alt', result['cloud'])


class TestRestoreFailures(RestoreTestCase):

    # The injection points of the restore flow are shared out between
    # PARTS tests (each with a backup of its own) that run side by side.
    PARTS = 2

    def test_failure_before_each_task_leaves_nothing_1(self):
        self._fail_before_each_task(0)

    def test_failure_before_each_task_leaves_nothing_2(self):
        self._fail_before_each_task(1)

    def _fail_before_each_task(self, part):
        server, volumes = self.make_server(volumes=1)
        self.write_pattern(mc.server_disk_path(server.id), 'root')
        self.write_pattern(mc.volume_path(volumes[0].id), 'volume')
        self.stop(server)
        backup_id, definition = self.backup(server)
        flow = restore_flow.get_flow(
            [{'disk': d['disk'], 'role': d['role'], 'image': {},
              'volume': {}} for d in definition['disks']], {})
        tasks = flowutils.injection_points(flow)
        self.assertGreater(len(tasks), 6)
        for task in flowutils.part(tasks, part, self.PARTS):
            name = self._name('inject')
            rc, err, job_id = self.restore_fails(
                backup_id, '--name', name, '--repository', self.repo_url,
                fail_before=task)
            self.assertEqual(1, rc, '%s: %s' % (task, err))
            self.assertIn('failure injected before task %s' % task
                          if task != '@end' else 'failure injected', err)
            self.assertNothingLeft(job_id, name)
        # Without a failure the same backup restores.
        result = self.restore(backup_id)
        disks = self.manifest(backup_id)
        self.assertEqual(disks[definition['disks'][0]['disk']]['sha256'],
                         mc.sha256_of(mc.server_disk_path(
                             result['server_id'])))
        self.assertRestoredVolume(result['volume_ids'][0],
                                  disks[definition['disks'][1]['disk']])

    def test_corrupted_backup_fails_and_removes_what_it_created(self):
        server, _ = self.make_server()
        self.write_pattern(mc.server_disk_path(server.id), 'root')
        self.stop(server)
        backup_id, definition = self.backup(server)
        packs = sorted(
            (os.path.getsize(os.path.join(d, f)), os.path.join(d, f))
            for d, _, files in os.walk(os.path.join(self.repo_url, 'packs'))
            for f in files)
        self.assertTrue(packs)
        size, pack = packs[-1]
        with open(pack, 'r+b') as f:
            f.seek(size // 2)
            byte = f.read(1)
            f.seek(size // 2)
            f.write(bytes([byte[0] ^ 0xff]))
        name = self._name('corrupt')

        rc, err, job_id = self.restore_fails(
            backup_id, '--name', name, '--repository', self.repo_url)

        self.assertEqual(1, rc, err)
        self.assertIn('backup %s disk %s' % (
            backup_id, definition['disks'][0]['disk']), err)
        self.assertIn('repository check --deep', err)
        self.assertIn('Restore of backup %s failed and was reverted (job %s)'
                      % (backup_id, job_id), err)
        self.assertIsNotNone(job_id)
        self.assertNothingLeft(job_id, name)

    def test_bad_input_is_refused_before_anything_is_created(self):
        server, _ = self.make_server()
        self.stop(server)
        backup_id, _ = self.backup(server)
        name = self._name('bad')
        cases = [
            (('no-such-backup',), 2, 'Backup no-such-backup not found'),
            ((backup_id, '--flavor', 'm1.nope'), 2,
             'Flavor m1.nope not found in cloud minicloud'),
            ((backup_id, '--flavor', 'm1.nano', '--network', 'nonet'), 2,
             'Network nonet not found in cloud minicloud'),
            ((backup_id, '--volume-type', 'notype'), 2,
             'Volume type notype not found'),
            ((backup_id, '--availability-zone', 'noaz'), 2,
             'Availability zone noaz not found'),
            ((backup_id, '--target-cloud', 'nowhere'), 2,
             'Cloud nowhere is not usable'),
        ]
        for argv, code, message in cases:
            rc, err, job_id = self.restore_fails(
                *argv, '--name', name, '--repository', self.repo_url)
            self.assertEqual((code, None), (rc, job_id), err)
            self.assertIn(message, err)
        missing = os.path.join(self.repo_url + '-missing')
        rc, err, job_id = self.restore_fails(
            backup_id, '--name', name, '--repository', missing)
        self.assertEqual((2, None), (rc, job_id), err)
        self.assertIn('No backup repository at %s' % missing, err)
        self.assertNothingLeft('none', name)


class TestRestoreAbort(RestoreTestCase):

    def test_kill_9_then_abort_leaves_nothing(self):
        server, volumes = self.make_server(volumes=1)
        self.write_pattern(mc.server_disk_path(server.id), 'root')
        self.stop(server)
        backup_id, definition = self.backup(server)
        name = self._name('abort')
        # Stop before the server is created: images and the volume exist.
        proc = self.cli.popen('--format', 'json', 'backup', 'restore',
                              backup_id, '--name', name, '--repository',
                              self.repo_url, hang_before='create-server')
        def volume_created():
            jobs = self.cli.json('job', 'list')
            if jobs and self.job_resources(jobs[0]['id'], self.conn)[1]:
                return jobs[0]['id']
            return None

        job_id = self.kill_9_when(proc, volume_created)
        self.addCleanup(self.delete_job_resources, job_id, self.conn)

        aborted = self.cli.json('job', 'abort', job_id)

        self.assertEqual('REVERTED', aborted['state'])
        self.assertNothingLeft(job_id, name)


class TestRestoreFromSwift(RestoreTestCase):

    def test_backup_into_swift_then_restore(self):
        container = 'ft-restore-%s' % os.urandom(4).hex()
        url = 'swift://%s/x?cloud=minicloud' % container
        self.addCleanup(self._delete_container, container)
        self.cli.json('repository', 'init', url)
        server, volumes = self.make_server(volumes=1)
        paths = [mc.server_disk_path(server.id),
                 mc.volume_path(volumes[0].id)]
        for n, path in enumerate(paths):
            self.write_pattern(path, 'swift%d' % n)
        self.stop(server)
        originals = [mc.sha256_of(path) for path in paths]
        backup = self.cli.json('backup', 'create', server.id,
                               '--repository', url, '--quiesce', 'stop')
        # Disks are listed root first, then the volumes (definition order).
        self.assertEqual(['sha256:%s' % h for h in originals],
                         [d['checksum'] for d in backup['disks']])
        self.delete_original(server, volumes)

        # the deprecated spelling: a warning, then the same restore
        rc, out, err = self.cli.run('--format', 'json', 'restore',
                                    backup['id'], '--repository', url,
                                    '--name', self._name('from-swift'))
        self.assertEqual(0, rc, err)
        self.assertIn('"backup-flows-manage restore" is deprecated', err)
        result = json.loads(out)
        self.addCleanup(self.delete_job_resources, result['job_id'],
                        self.conn)

        self.assertEqual('ACTIVE', self.conn.compute.get_server(
            result['server_id']).status)
        root, volume = backup['disks']
        self.assertEqual(root['checksum'], 'sha256:%s' % mc.sha256_of(
            mc.server_disk_path(result['server_id'])))
        self.assertEqual(1, len(result['volume_ids']))
        self.assertRestoredVolume(
            result['volume_ids'][0],
            {'size': volume['size'],
             'sha256': volume['checksum'][len('sha256:'):]})

    def _delete_container(self, container):
        try:
            objects = list(self.conn.object_store.objects(container))
        except sdk_exc.NotFoundException:
            return
        for obj in objects:
            self.conn.object_store.delete_object(obj, container=container,
                                                 ignore_missing=True)
        self.conn.object_store.delete_container(container,
                                                ignore_missing=True)
