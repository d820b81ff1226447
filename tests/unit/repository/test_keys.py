"""Encryption and keys: wrong or missing secrets fail clearly and change
nothing; an encrypted repository leaks no content or metadata."""

import os

from oslo_config import cfg

from backup_flows import exceptions
from backup_flows.conf import repository as conf_repository
from backup_flows.repository import Repository
from backup_flows.repository import Secret
from backup_flows.repository import keyfile

from tests.unit.repository import base


class KeysTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo(encrypted=True)
        self.data = base.disk_bytes(40, 100000)
        self.backup_id = self.backup(self.repo, {'vda': self.data})
        self.repo.close()

    def assertOpenFails(self, secret, *fragments):
        before = self.objects()
        error = self.assertRaises(exceptions.RepositoryKeyError,
                                  Repository.open, self.path(),
                                  secret=secret)
        self.assertEqual(2, error.exit_code)
        for fragment in fragments:
            self.assertIn(fragment, str(error))
        self.assertEqual(before, self.objects())

    def test_wrong_passphrase(self):
        self.assertOpenFails(Secret(passphrase='wrong'),
                             'wrong passphrase or key')

    def test_missing_secret(self):
        self.assertOpenFails(None, 'encrypted', 'passphrase_file',
                             keyfile.PASSPHRASE_ENV)

    def test_raw_key_instead_of_passphrase(self):
        self.assertOpenFails(Secret(raw_key=bytes(32)),
                             'unlocked by a passphrase')

    def test_missing_key_file(self):
        os.unlink(os.path.join(self.path(), 'keys', 'key'))
        self.assertOpenFails(self.secret, 'key file keys/key is missing')

    def test_damaged_key_file(self):
        with open(os.path.join(self.path(), 'keys', 'key'), 'w') as f:
            f.write('{"format": "backup-flows-key"')
        self.assertOpenFails(self.secret, 'keys/key is damaged')

    def test_key_file_of_another_repository(self):
        other = self.make_repo('other', encrypted=True)
        other.close()
        with open(os.path.join(self.path('other'), 'keys', 'key'),
                  'rb') as f:
            foreign_key = f.read()
        with open(os.path.join(self.path(), 'keys', 'key'), 'wb') as f:
            f.write(foreign_key)
        # Same passphrase, but the key file is bound to its repository id.
        self.assertOpenFails(self.secret, 'wrong passphrase or key')

    def test_nothing_in_clear(self):
        repo = self.open_repo(secret=self.secret)
        marker = b'plain-text-marker-' * 400
        self.backup(repo, {'vda': marker + os.urandom(5000)},
                    server='server-with-secret-name',
                    metadata={'flavor': 'flavor-with-secret-name'})
        for name, data in self.objects().items():
            if name.startswith(('config', 'keys', 'locks')):
                continue
            self.assertNotIn(b'plain-text-marker', data, name)
            self.assertNotIn(b'secret-name', data, name)
        self.assertEqual(self.data, self.read(repo, self.backup_id, 'vda'))

    def test_raw_key_repository(self):
        secret = Secret(raw_key=os.urandom(32))
        repo = Repository.init(self.path('raw'), encrypted=True,
                               secret=secret, chunk_size=base.CHUNK)
        with repo:
            backup_id = self.backup(repo, {'vda': self.data})
        self.assertRaises(exceptions.RepositoryKeyError, Repository.open,
                          self.path('raw'), secret=self.secret)
        with Repository.open(self.path('raw'), secret=secret) as repo:
            self.assertEqual(self.data, self.read(repo, backup_id, 'vda'))

    def test_encrypted_init_needs_a_secret(self):
        error = self.assertRaises(exceptions.RepositoryKeyError,
                                  Repository.init, self.path('new'),
                                  encrypted=True)
        self.assertIn(keyfile.PASSPHRASE_ENV, str(error))
        self.assertFalse(os.path.exists(self.path('new')))


class SecretFromConfTest(base.RepositoryTestCase):

    def conf(self, **values):
        conf = cfg.ConfigOpts()
        conf_repository.register_opts(conf)
        conf([])
        for name, value in values.items():
            conf.set_override(name, value, 'repository')
            # the option group is shared with the global CONF: an override
            # left here would leak into other tests
            self.addCleanup(conf.clear_override, name, 'repository')
        return conf

    def test_order_and_sources(self):
        self.useFixture(base.fixtures.EnvironmentVariable(
            keyfile.PASSPHRASE_ENV, 'from-env'))
        self.assertEqual('from-env',
                         keyfile.secret_from_conf(self.conf()).passphrase)
        self.assertEqual('from-conf', keyfile.secret_from_conf(
            self.conf(passphrase='from-conf')).passphrase)
        path = os.path.join(self.tmp, 'pass')
        with open(path, 'w') as f:
            f.write('from-file\nignored\n')
        self.assertEqual('from-file', keyfile.secret_from_conf(
            self.conf(passphrase='x', passphrase_file=path)).passphrase)
        key = os.path.join(self.tmp, 'key')
        with open(key, 'w') as f:
            f.write('ab' * 32 + '\n')
        secret = keyfile.secret_from_conf(self.conf(key_file=key,
                                                    passphrase_file=path))
        self.assertEqual(bytes([0xab]) * 32, secret.raw_key)
        self.assertNotIn('ab', repr(secret))
        with open(key, 'w') as f:
            f.write('not hex')
        self.assertRaises(keyfile.KeyFileError, keyfile.secret_from_conf,
                          self.conf(key_file=key))

    def test_none_configured(self):
        self.useFixture(base.fixtures.EnvironmentVariable(
            keyfile.PASSPHRASE_ENV))
        self.assertIsNone(keyfile.secret_from_conf(self.conf()))
