"""Helpers shared by the repository unit tests."""

import io
import os
import random

import fixtures
import testtools

from backup_flows.repository import Repository
from backup_flows.repository import Secret
from backup_flows.repository import config as config_mod
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import reader

FAST_SCRYPT = {'n': 1 << 10, 'r': 8, 'p': 1}
PASSPHRASE = 'correct horse battery staple'
# Small chunks and packs: many chunks and packs from little data.
CHUNK = 4096


def settings(**kwargs):
    """Repository settings for tests: small packs, two workers."""
    values = {'pack_size': 64 << 10, 'workers': 2, 'lock_ttl': 30,
              # listings of the file backend do not lag
              'prune_grace': 0}
    values.update(kwargs)
    return config_mod.Settings(**values)


def disk_bytes(seed, size, zeros=0.3):
    """Deterministic disk content: random, text-like and zero pieces."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        n = rng.randint(1, 64) * 512
        kind = rng.random()
        if kind < zeros:
            out += bytes(n)
        elif kind < 0.7:
            out += rng.randbytes(n)
        else:
            out += (b'line %d of some log text\n' % rng.randint(0, 99)) * (
                n // 24)
    return bytes(out[:size])


class RepositoryTestCase(testtools.TestCase):
    """Creates repositories in a temporary directory."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.secret = Secret(passphrase=PASSPHRASE)

    def path(self, name='repo'):
        return os.path.join(self.tmp, name)

    def make_repo(self, name='repo', encrypted=False, **kwargs):
        repo = Repository.init(
            self.path(name), encrypted=encrypted,
            secret=self.secret if encrypted else None, chunk_size=CHUNK,
            settings=settings(**kwargs), scrypt_params=FAST_SCRYPT)
        self.addCleanup(repo.close)
        return repo

    def open_repo(self, name='repo', secret=None, **kwargs):
        repo = Repository.open(self.path(name), secret=secret,
                               settings=settings(**kwargs))
        self.addCleanup(repo.close)
        return repo

    def backup(self, repo, disks, server='server-1', metadata=None):
        """Write ``disks`` ({name: bytes}); return the backup id."""
        with repo.start_backup() as session:
            for name, data in disks.items():
                session.write_disk(name, io.BytesIO(data))
            return session.commit(server, metadata or {'name': server})

    def disk_chunks(self, repo, backup_id, disk='vda'):
        """``[(chunk id or None, length)]`` of a disk, from its list."""
        record, = [d for d in repo.show_backup(backup_id)['disks']
                   if d['name'] == disk]
        repo.load_index()
        return list(reader.disk_chunks(repo, record))

    def damage(self, chunk_id, copy=0, repo=None, name='repo'):
        """Flip a byte in the middle of copy ``copy`` (0: the one reads
        prefer) of a chunk of ``repo`` (``self.repo``) in file repository
        ``name``; return that copy's pack id."""
        repo = repo or self.repo
        repo.load_index()
        pack_id, offset, length, _ = repo.index.locations(chunk_id)[copy]
        path = os.path.join(self.path(name), *pack_mod.pack_name(
            pack_id).split('/'))
        with open(path, 'r+b') as f:
            f.seek(offset + length // 2)
            byte = f.read(1)
            f.seek(offset + length // 2)
            f.write(bytes([byte[0] ^ 0x20]))
        return pack_id

    def read(self, repo, backup_id, disk):
        return b''.join(repo.read_disk(backup_id, disk))

    def objects(self, name='repo'):
        """{relative path: bytes} of every file of a repository."""
        root = self.path(name)
        result = {}
        for dirpath, _, files in os.walk(root):
            for filename in files:
                path = os.path.join(dirpath, filename)
                with open(path, 'rb') as f:
                    result[os.path.relpath(path, root)] = f.read()
        return result


def stream(data):
    """A readinto-capable stream of ``data``."""
    return io.BytesIO(data)
