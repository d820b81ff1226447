"""A Glance image whose bytes are not those Glance hashed fails the backup
cleanly (nothing left in the cloud, no backup in the repository)."""

import os

from backup_flows import tags
from backup_flows.cloud import snapshot_sets as sets

from tests.functional import minicloud as mc
from tests.functional.backup import test_backup


class TestGlanceHashMismatch(test_backup.BackupTestCase):

    def _active_set_image(self, server_id):
        """``(job id, image id)`` once the server's transient set image is
        active (its bytes stored and hashed by Glance)."""
        for image, props in sets.member_images(self.conn):
            if (props.get(tags.SERVER_ID) == server_id and
                    image.status == 'active'):
                return props[tags.JOB_ID], image.id
        return None

    def test_tampered_image_fails_the_backup_and_leaves_nothing(self):
        server, _ = self.make_server()
        # Stopped before the copy; the image's file is changed in Glance's
        # store, then the job resumes and reads it.
        proc = self.cli.popen('backup', 'create', server.id,
                              '--repository', self.repo, '--quiesce', 'none',
                              hang_before='write-disk-vda')
        job_id, image_id = self.kill_9_when(
            proc, lambda: self._active_set_image(server.id), wait=120)
        path = os.path.join(mc.home(), 'glance', 'images', image_id)
        size = os.path.getsize(path)
        with open(path, 'r+b') as f:
            f.seek(size // 2)
            byte = f.read(1)
            f.seek(size // 2)
            f.write(bytes([byte[0] ^ 0xFF]))

        rc, _, err = self.cli.run('job', 'resume', job_id)

        self.assertEqual(1, rc, err)
        errors = [line for line in err.splitlines()
                  if line.startswith('ERROR: ')]
        self.assertEqual(1, len(errors), err)
        self.assertIn('Image %s of disk vda does not hold the expected '
                      'bytes: sha512' % image_id, errors[0])
        self.assertEqual(['REVERTED'], [job['state'] for job in
                                        self.cli.json('job', 'list')])
        self.assertNotIn('Traceback', err)
        self.assertEqual([], self.leaks(job_id))
        self.assertEqual([], self.listed())
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
        check = self.cli.json('repository', 'check', '--repository',
                              self.repo)
        self.assertTrue(check['ok'], check)
