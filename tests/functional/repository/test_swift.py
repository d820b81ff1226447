"""The repository on the ``swift`` backend, against the minicloud's Swift.

Each test uses its own container (deleted with its objects at the end)
and proves bytes: round trips plain and encrypted, corruption detection,
prune, and the CLI on a ``swift://`` URL.
"""

import io
import os
import uuid

import hypothesis
from hypothesis import strategies as st
from openstack import exceptions as sdk_exc

from backup_flows import exceptions
from backup_flows.repository import Policy
from backup_flows.repository import Repository
from backup_flows.repository import Secret
from backup_flows.repository import backends
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import reader

from tests.functional import cli
from tests.functional import minicloud as mc
from tests.unit.repository import base

PASSPHRASE = 'swift functional passphrase'


class SwiftRepositoryTestCase(mc.MiniCloudTestCase):

    def setUp(self):
        super().setUp()
        self.container = 'bf-ft-%s' % uuid.uuid4().hex[:12]
        self.addCleanup(self._delete_container)
        self.secret = Secret(passphrase=PASSPHRASE)

    def _delete_container(self):
        store = self.conn.object_store
        try:
            objects = list(store.objects(self.container))
        except sdk_exc.NotFoundException:
            return
        for obj in objects:
            store.delete_object(obj, container=self.container,
                                ignore_missing=True)
        store.delete_container(self.container, ignore_missing=True)

    def url(self, prefix='repo'):
        return 'swift://%s/%s?cloud=minicloud' % (self.container, prefix)

    def backend(self, prefix='repo'):
        return backends.load_backend(self.url(prefix),
                                     connection=mc.connection('minicloud'))

    def make_repo(self, prefix='repo', encrypted=False, **settings):
        repo = Repository.init(
            self.url(prefix), encrypted=encrypted,
            secret=self.secret if encrypted else None, chunk_size=base.CHUNK,
            settings=base.settings(**settings),
            scrypt_params=base.FAST_SCRYPT, backend=self.backend(prefix))
        self.addCleanup(repo.close)
        return repo

    def open_repo(self, prefix='repo', secret=None):
        repo = Repository.open(self.url(prefix), secret=secret,
                               settings=base.settings(),
                               backend=self.backend(prefix))
        self.addCleanup(repo.close)
        return repo

    def backup(self, repo, disks, server='server-1'):
        with repo.start_backup() as session:
            for name, data in disks.items():
                session.write_disk(name, io.BytesIO(data))
            return session.commit(server, {'flavor': 'm1.tiny'})

    def read(self, repo, backup_id, disk):
        return b''.join(repo.read_disk(backup_id, disk))

    def object_name(self, name, prefix='repo'):
        return '%s/%s' % (prefix, name)

    def swift_get(self, name):
        return self.conn.object_store.download_object(
            self.object_name(name), container=self.container)

    def swift_put(self, name, data):
        self.conn.object_store.upload_object(
            self.container, self.object_name(name), data=data)


class SwiftRoundTripTest(SwiftRepositoryTestCase):

    def _round_trip(self, encrypted):
        repo = self.make_repo(encrypted=encrypted)
        disks = {'vda': base.disk_bytes(1, 600000),
                 'vdb': bytes(300000) + os.urandom(1000) + bytes(5000),
                 'empty': b''}
        backup_id = self.backup(repo, disks)

        @hypothesis.settings(max_examples=5, deadline=None, database=None)
        @hypothesis.given(data=st.lists(st.one_of(
            st.integers(1, 30000).map(bytes),
            st.binary(min_size=1, max_size=20000)),
            max_size=6).map(b''.join))
        def property_round_trip(data):
            property_id = self.backup(repo, {'vda': data})
            self.assertEqual(data, self.read(repo, property_id, 'vda'))

        property_round_trip()
        # A fresh connection sees the same repository.
        repo = self.open_repo(secret=self.secret if encrypted else None)
        for name, data in disks.items():
            self.assertEqual(data, self.read(repo, backup_id, name))
        target = os.path.join(self.useFixture(
            base.fixtures.TempDir()).path, 'vdb.img')
        repo.restore_disk(backup_id, 'vdb', target)
        with open(target, 'rb') as f:
            self.assertEqual(disks['vdb'], f.read())
        report = repo.check(deep=True)
        self.assertTrue(report['ok'], report)
        self.assertEqual(6, report['backups'])
        names = [o.name for o in self.conn.object_store.objects(
            self.container)]
        self.assertTrue(all(n.startswith('repo/') for n in names), names)
        self.assertIn('repo/config', names)
        self.assertEqual(encrypted, 'repo/keys/key' in names)
        return repo, backup_id, disks

    def test_round_trip_plain(self):
        self._round_trip(encrypted=False)

    def test_round_trip_encrypted_and_wrong_passphrase(self):
        self._round_trip(encrypted=True)
        before = sorted((o.name, o.etag) for o in
                        self.conn.object_store.objects(self.container))
        error = self.assertRaises(exceptions.RepositoryKeyError,
                                  self.open_repo,
                                  secret=Secret(passphrase='wrong'))
        self.assertIn('wrong passphrase or key', str(error))
        self.assertRaises(exceptions.RepositoryKeyError, self.open_repo)
        after = sorted((o.name, o.etag) for o in
                       self.conn.object_store.objects(self.container))
        self.assertEqual(before, after)
        # Nothing readable in the stored objects.
        for obj in self.conn.object_store.objects(self.container):
            if obj.name.startswith('repo/manifests/'):
                self.assertNotIn(b'm1.tiny', self.swift_get(
                    obj.name[len('repo/'):]))

    def test_missing_and_existing_repository(self):
        self.assertRaises(exceptions.RepositoryNotFound, self.open_repo,
                          'nothing-here')
        self.make_repo()
        self.assertRaises(exceptions.RepositoryExists, self.make_repo)


class SwiftCorruptionTest(SwiftRepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo(encrypted=True)
        self.data = {('a', 'vda'): base.disk_bytes(10, 200000),
                     ('a', 'vdb'): base.disk_bytes(11, 200000),
                     ('b', 'vda'): base.disk_bytes(12, 200000)}
        self.ids = {
            'a': self.backup(self.repo, {'vda': self.data['a', 'vda'],
                                         'vdb': self.data['a', 'vdb']},
                             server='a'),
            'b': self.backup(self.repo, {'vda': self.data['b', 'vda']},
                             server='b')}

    def pack_of(self, backup, disk, nth=0):
        document = self.repo.show_backup(self.ids[backup])
        record, = [d for d in document['disks'] if d['name'] == disk]
        self.repo.load_index()
        chunks = [c for c, _ in reader.disk_chunks(self.repo, record)
                  if c is not None]
        return self.repo.index.lookup(chunks[nth])

    def affected(self, report):
        return {item['backup']: [d['name'] for d in item['disks']] or None
                for item in report['affected']}

    def assertUnreadable(self, backup, disk):
        got = bytearray()

        def read():
            for data in self.repo.read_disk(self.ids[backup], disk):
                got.extend(data)

        error = self.assertRaises(exceptions.RepositoryCorrupted, read)
        expected = self.data[backup, disk]
        self.assertEqual(expected[:len(got)], bytes(got))
        self.assertLess(len(got), len(expected))
        return error

    def assertReadable(self, *keys):
        for backup, disk in keys:
            self.assertEqual(self.data[backup, disk],
                             self.read(self.repo, self.ids[backup], disk))

    def test_flipped_byte_and_deleted_pack(self):
        pack_id, offset, length, _ = self.pack_of('a', 'vdb', nth=1)
        name = pack_mod.pack_name(pack_id)
        data = bytearray(self.swift_get(name))
        data[offset + length // 2] ^= 0x10
        self.swift_put(name, bytes(data))
        report = self.repo.check(deep=True)
        self.assertFalse(report['ok'])
        self.assertEqual({self.ids['a']: ['vdb']}, self.affected(report))
        self.assertIn('damaged in pack', str(
            self.assertUnreadable('a', 'vdb')))
        self.assertReadable(('a', 'vda'), ('b', 'vda'))
        # Delete a pack of backup b too.
        other = self.pack_of('b', 'vda')[0]
        self.conn.object_store.delete_object(
            self.object_name(pack_mod.pack_name(other)),
            container=self.container)
        report = self.repo.check()
        self.assertEqual([other], report['missing_packs'])
        self.assertEqual({self.ids['b']: ['vda']}, self.affected(report))
        self.assertIn('is missing', str(self.assertUnreadable('b', 'vda')))
        self.assertReadable(('a', 'vda'))

    def test_truncated_index_and_damaged_manifest(self):
        pack_id = self.pack_of('a', 'vda')[0]
        index_name = [n for n, packs in self.repo.index.files.items()
                      if pack_id in packs][0]
        data = self.swift_get(index_name)
        self.swift_put(index_name, data[:len(data) // 2])
        manifest = manifest_mod.object_name(self.ids['b'])
        data = bytearray(self.swift_get(manifest))
        data[20] ^= 1
        self.swift_put(manifest, bytes(data))
        report = self.repo.check()
        self.assertFalse(report['ok'])
        self.assertEqual([index_name], list(report['index_errors']))
        self.assertEqual({self.ids['a']: ['vda'], self.ids['b']: None},
                         self.affected(report))
        self.assertIn('not in the index', str(
            self.assertUnreadable('a', 'vda')))
        self.assertRaises(exceptions.RepositoryCorrupted, self.read,
                          self.repo, self.ids['b'], 'vda')
        self.assertReadable(('a', 'vdb'))
        self.repo.rebuild_index()
        self.repo.forget([self.ids['b']])
        self.assertTrue(self.repo.check(deep=True)['ok'])
        self.assertReadable(('a', 'vda'), ('a', 'vdb'))


class SwiftPruneTest(SwiftRepositoryTestCase):

    def test_prune_reclaims_forgotten_and_orphaned_data(self):
        repo = self.make_repo()
        ids = [self.backup(repo, {'vda': base.disk_bytes(20 + i, 150000)})
               for i in range(3)]
        # An interrupted backup leaves packs no manifest refers to.
        with repo.start_backup() as session:
            session.write_disk('vda', io.BytesIO(base.disk_bytes(30,
                                                                 150000)))
        self.assertGreater(repo.check()['unreferenced_packs'], 0)
        before = repo.stats()['stored_bytes']
        result = repo.prune(Policy(keep_last=1))
        self.assertEqual(ids[:2], result['forgotten'])
        self.assertGreater(result['packs_deleted'], 0)
        self.assertEqual([ids[2]], [b['id'] for b in repo.list_backups()])
        self.assertLess(repo.stats()['stored_bytes'], before / 3)
        report = repo.check(deep=True)
        self.assertTrue(report['ok'], report)
        self.assertEqual(0, report['unreferenced_packs'])
        self.assertEqual(base.disk_bytes(22, 150000),
                         self.read(repo, ids[2], 'vda'))
        self.assertEqual([], list(repo.backend.list('locks/')))

    def test_copy_from_file_to_swift(self):
        tmp = self.useFixture(base.fixtures.TempDir()).path
        source = Repository.init(os.path.join(tmp, 'local'),
                                 chunk_size=base.CHUNK,
                                 settings=base.settings())
        self.addCleanup(source.close)
        data = base.disk_bytes(40, 300000)
        backup_id = self.backup(source, {'vda': data})
        target = self.make_repo(encrypted=True)
        source.copy_backup(backup_id, target)
        self.assertEqual(data, self.read(target, backup_id, 'vda'))
        self.assertTrue(target.check(deep=True)['ok'])


class SwiftCLITest(SwiftRepositoryTestCase):

    def test_cli_on_a_swift_url(self):
        manage = self.useFixture(cli.ManageFixture(self.clouds_yaml))
        manage.env['BACKUP_FLOWS_REPOSITORY_PASSPHRASE'] = PASSPHRASE
        # The cloud comes from --os-cloud / OS_CLOUD when the URL has none.
        url = 'swift://%s/cli' % self.container
        created = manage.json('repository', 'init', url, '--encrypt')
        self.assertEqual('aes-256-gcm', created['encryption'])
        repo = self.open_repo('cli', secret=self.secret)
        backup_id = self.backup(repo, {'vda': base.disk_bytes(50, 100000)})
        listed = manage.json('backup', 'list', '--repository', url)
        self.assertEqual([backup_id], [b['id'] for b in listed])
        self.assertTrue(manage.json('repository', 'check', '--deep',
                                    '--repository', url)['ok'])
        stats = manage.json('repository', 'stats', '--repository', url)
        self.assertEqual(100000, stats['logical_bytes'])
        result = manage.json('backup', 'prune', '--keep-last', '1',
                             '--repository', url)
        self.assertEqual([], result['forgotten'])
        rc, _, err = manage.run('backup', 'list', '--repository',
                                'swift://%s/nothing' % self.container)
        self.assertEqual(2, rc)
        self.assertIn('No backup repository', err)
        rc, _, err = manage.run('backup', 'list', '--repository',
                                url + '?cloud=no-such-cloud')
        self.assertEqual(2, rc)
        self.assertIn('no-such-cloud', err)
