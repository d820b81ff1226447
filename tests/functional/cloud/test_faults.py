"""Backups and restores through a fault-injecting proxy in front of the
cloud's APIs (Glance, Nova, Cinder): transient 503s, resets and stalls are
retried and the bytes arrive whole; a permanent fault, or a creating POST
whose answer was lost, fails the flow, which reverts and leaves nothing.

The test's own calls (``self.conn``) go straight to the cloud; only the CLI
goes through the proxies (endpoint overrides in a clouds.yaml of its own).
"""

import json
import os
import urllib.parse

from testtools import content
import yaml

from tests.functional import faultproxy
from tests.functional import minicloud as mc
from tests.functional.backup import test_backup

# Catalog service type -> clouds.yaml key of its endpoint override.
OVERRIDES = {'image': 'image_endpoint_override',
             'compute': 'compute_endpoint_override',
             'block-storage': 'block_storage_endpoint_override'}
RETRIES = 4
# [cloud] options of the CLI: short delays and read timeout so that the
# faults cost seconds, not minutes.
CLOUD_OPTIONS = {'retries': RETRIES, 'retry_delay': 0.2,
                 'retry_delay_max': 1, 'read_timeout': 10}
STALL = 14  # seconds: longer than read_timeout

IMAGE = r'^/v2/images/[0-9a-f-]{36}$'
IMAGE_FILE = r'^/v2/images/[0-9a-f-]{36}/file$'
SERVER = r'^/v2\.1/servers/[0-9a-f-]{36}$'
SERVER_ACTION = r'^/v2\.1/servers/[0-9a-f-]{36}/action$'
VOLUME = r'^/v3/volumes/[0-9a-f-]{36}$'
SNAPSHOT = r'^/v3/snapshots/[0-9a-f-]{36}$'


class FaultsTestCase(test_backup.BackupTestCase):
    """The CLI of these tests reaches the cloud through fault proxies."""

    def setUp(self):
        super().setUp()
        entry = {}
        self.proxies = {}
        for service, key in OVERRIDES.items():
            url = self.conn.endpoint_for(service)
            parts = urllib.parse.urlsplit(url)
            proxy = self.useFixture(faultproxy.FaultProxy(
                '%s://%s' % (parts.scheme, parts.netloc)))
            self.proxies[service] = proxy
            entry[key] = proxy.endpoint(url)
        with open(self.clouds_yaml) as f:
            config = yaml.safe_load(f)
        config['clouds']['minicloud'].update(entry)
        proxied = os.path.join(self.cli.state, 'clouds-faults.yaml')
        with open(os.open(proxied, os.O_WRONLY | os.O_CREAT, 0o600),
                  'w') as f:
            yaml.safe_dump(config, f)
        self.cli.env['OS_CLIENT_CONFIG_FILE'] = proxied
        self.config = os.path.join(self.cli.state, 'cloud.conf')
        with open(self.config, 'w') as f:
            f.write('[cloud]\n' + ''.join('%s = %s\n' % item
                                          for item in CLOUD_OPTIONS.items()))

    @property
    def glance(self):
        return self.proxies['image']

    @property
    def nova(self):
        return self.proxies['compute']

    @property
    def cinder(self):
        return self.proxies['block-storage']

    def manage(self, *argv):
        """Run the CLI (through the proxies); (rc, stdout, stderr)."""
        rc, out, err = self.cli.run('--config-file', self.config, '--format',
                                    'json', *argv)
        self.addDetail('stderr of %s' % ' '.join(argv[:2]),
                       content.text_content(err))
        return rc, out, err

    def manage_json(self, *argv):
        rc, out, err = self.manage(*argv)
        self.assertEqual(0, rc, err)
        return json.loads(out)

    def injected(self):
        """(service, method, path, action) of every fault injected."""
        return [(service, e['method'], e['path'], e['action'])
                for service, proxy in sorted(self.proxies.items())
                for e in proxy.log if e['action']]

    def assertAllHit(self, rules):
        self.assertEqual([(r, r.count) for r in rules],
                         [(r, r.hits) for r in rules])

    def error_line(self, err):
        errors = [line for line in err.splitlines()
                  if line.startswith('ERROR: ')]
        self.assertEqual(1, len(errors), err)
        return errors[0]

    # -- restored resources -------------------------------------------------

    def restored(self, job_id):
        """(servers, volumes, images) carrying the restore job's id."""
        from backup_flows import tags
        from backup_flows.cloud import snapshot_sets as sets
        srvs = [s.id for s in self.conn.compute.servers(details=True)
                if (s.metadata or {}).get(tags.JOB_ID) == job_id]
        vols = [v.id for v in self.conn.block_storage.volumes()
                if (v.metadata or {}).get(tags.JOB_ID) == job_id]
        imgs = [i.id for i in self.conn.image.images()
                if sets.image_properties(i).get(tags.JOB_ID) ==
                job_id]
        return srvs, vols, imgs

    def delete_restored(self, job_id):
        srvs, vols, imgs = self.restored(job_id)
        for server_id in srvs:
            self._delete_server(self.conn, server_id)
        for volume_id in vols:
            self._delete_volume(self.conn, volume_id)
        for image_id in imgs:
            self.conn.image.delete_image(image_id, ignore_missing=True)


class TestTransientFaults(FaultsTestCase):

    def backup_faults(self):
        """Faults on the calls of a backup; each is retried."""
        return [
            self.glance.add(faultproxy.status(503, method='GET', path=IMAGE,
                                              count=2)),
            self.glance.add(faultproxy.reset(method='GET', path=IMAGE,
                                             skip=3)),
            # The first download: a 503, then a reset, then a stall.
            self.glance.add(faultproxy.status(503, method='GET',
                                              path=IMAGE_FILE)),
            self.glance.add(faultproxy.reset(method='GET', path=IMAGE_FILE,
                                             skip=1)),
            self.glance.add(faultproxy.stall(STALL, method='GET',
                                             path=IMAGE_FILE, skip=2)),
            # POSTs refused with 503 are sent again (nothing was done).
            self.nova.add(faultproxy.status(503, method='POST',
                                            path=SERVER_ACTION)),
            self.nova.add(faultproxy.reset(method='GET', path=SERVER,
                                           skip=1)),
            self.cinder.add(faultproxy.status(503, method='POST',
                                              path=r'^/v3/snapshots$')),
            self.cinder.add(faultproxy.status(503, method='POST',
                                              path=r'^/v3/volumes$')),
            self.cinder.add(faultproxy.reset(method='GET', path=VOLUME,
                                             skip=1)),
            self.cinder.add(faultproxy.status(502, method='DELETE',
                                              path=SNAPSHOT)),
        ]

    def restore_faults(self):
        """Faults on the calls of a restore; each is retried."""
        return [
            self.glance.add(faultproxy.status(503, method='POST',
                                              path=r'^/v2/images$')),
            self.glance.add(faultproxy.status(503, method='GET', path=IMAGE,
                                              count=2)),
            self.glance.add(faultproxy.reset(method='GET', path=IMAGE,
                                             skip=1)),
            self.nova.add(faultproxy.status(503, method='POST',
                                            path=r'^/v2\.1/servers$')),
            self.nova.add(faultproxy.reset(method='GET', path=SERVER)),
            self.cinder.add(faultproxy.status(503, method='POST',
                                              path=r'^/v3/volumes$')),
            self.cinder.add(faultproxy.reset(method='GET', path=VOLUME,
                                             skip=1)),
        ]

    def test_backup_and_restore_through_503s_resets_and_a_stall(self):
        server, volumes = self.make_server(volumes=1)
        paths = self.disk_paths(server, volumes)
        expected = self.write_generation(paths, 1)
        rules = self.backup_faults()

        backup = self.manage_json('backup', 'create', server.id,
                                  '--repository', self.repo)

        self.assertAllHit(rules)
        self.assertEqual(['sha256:%s' % h for h in expected],
                         [d['checksum'] for d in backup['disks']])
        self.assertEqual([], self.leaks(backup['job_id']))
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
        # One snapshot asked for (and answered), not two.
        self.assertEqual([503, 202], [
            e['status'] for e in self.cinder.requests('POST',
                                                      r'^/v3/snapshots$')])

        for proxy in self.proxies.values():
            proxy.clear()
        rules = self.restore_faults()
        name = self._name('restored')
        rc, out, err = self.manage('backup', 'restore', backup['id'],
                                   '--repository', self.repo, '--name', name)
        restore = json.loads(out) if rc == 0 else {}
        job_id = restore.get('job_id') or self.last_job()
        self.addCleanup(self.delete_restored, job_id)
        self.assertEqual(0, rc, err)

        self.assertAllHit(rules)
        new = self.conn.compute.get_server(restore['server_id'])
        self.assertEqual(('ACTIVE', name), (new.status, new.name))
        # The restored disks hold exactly the bytes backed up.
        self.assertEqual(expected[0],
                         mc.sha256_of(mc.server_disk_path(new.id)))
        self.assertEqual(expected[1], mc.sha256_of(
            mc.volume_path(restore['volume_ids'][0]),
            length=os.path.getsize(paths[1])))
        # Exactly one server, one volume and one image were created.
        self.assertEqual(([new.id], restore['volume_ids'],
                          [restore['image_id']]), self.restored(job_id))


class TestPermanentFaults(FaultsTestCase):

    def test_a_permanent_503_reverts_the_backup_and_leaves_nothing(self):
        server, volumes = self.make_server(volumes=1)
        self.write_generation(self.disk_paths(server, volumes), 1)
        # Glance answers 503 to every GET of an image the flow created
        # (not of the server's image, which planning reads; listings and
        # deletes, which the revert needs, still work).
        created = r'^/v2/images/(?!%s)[0-9a-f-]{36}$' % server.image['id']
        self.glance.add(faultproxy.status(503, method='GET', path=created,
                                          count=None))

        rc, _, err = self.manage('backup', 'create', server.id,
                                 '--repository', self.repo)

        self.assertEqual(1, rc, err)
        error = self.error_line(err)
        self.assertIn('failed and was reverted', error)
        self.assertIn('503', error)
        # Each GET was tried 1 + RETRIES times, no more.
        gets = self.glance.requests('GET', created)
        self.assertTrue(gets)
        self.assertEqual(0, len(gets) % (1 + RETRIES), gets)
        self.assertEqual([], self.leaks(self.last_job()))
        self.assertEqual([], self.listed())
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)

    def test_a_lost_answer_to_a_post_is_not_sent_again(self):
        server, volumes = self.make_server(volumes=1)
        # Cinder creates the snapshot; its answer never arrives.
        self.cinder.add(faultproxy.reset(method='POST',
                                         path=r'^/v3/snapshots$',
                                         forward=True))

        rc, _, err = self.manage('backup', 'create', server.id,
                                 '--repository', self.repo)

        self.assertEqual(1, rc, err)
        self.assertIn('failed and was reverted', self.error_line(err))
        self.assertIn('Not sending POST', err)
        self.assertEqual(['reset'], [
            e['action'] for e in self.cinder.requests('POST',
                                                      r'^/v3/snapshots$')])
        # The revert found the snapshot by the job id and deleted it.
        self.assertEqual([], self.leaks(self.last_job()))
        self.assertEqual([], self.listed())
        self.assertEqual('ACTIVE',
                         self.conn.compute.get_server(server.id).status)
