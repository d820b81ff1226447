"""Glance's hash of an image's bytes, checked while they stream.

Glance records the hash of every image's bytes as it stores them
(``os_hash_algo`` and ``os_hash_value``, SHA-512 unless its
``hashing_algorithm`` says otherwise). A backup hashes the bytes it
downloads and compares; a restore hashes the bytes it uploads, then
compares with what Glance computed of what it stored. An image without a
recorded hash (an old Glance, or Glance's hashing off) is checked by its
size only, with a warning.
"""

import collections
import concurrent.futures
import hashlib

from oslo_log import log as logging

from backup_flows import exceptions

LOG = logging.getLogger(__name__)

# Glance's default [DEFAULT] hashing_algorithm: a restore hashes what it
# sends with it before it knows what the target Glance uses.
GLANCE_DEFAULT = 'sha512'
# Pieces handed to the hashing thread and not hashed yet.
_BEHIND = 4


def algorithm_of(image, what):
    """The hash algorithm Glance recorded for ``image``, or ``None`` (with
    a warning naming ``what``) when it recorded none this host knows."""
    if not image.hash_value:
        LOG.warning('%s has no hash in Glance (os_hash_value): its bytes '
                    'are checked by their size only', what)
        return None
    if image.hash_algo not in hashlib.algorithms_available:
        LOG.warning('%s is hashed with %s by Glance, which this host '
                    'cannot compute: its bytes are checked by their size '
                    'only', what, image.hash_algo)
        return None
    return image.hash_algo


class StreamHash:
    """A hash of a byte stream, computed in order on a thread of its own
    (hashlib releases the GIL) while the stream goes on; at most
    ``_BEHIND`` pieces behind it. With ``algorithm`` None it hashes
    nothing and :meth:`hexdigest` returns None.

    The pieces handed to :meth:`update` must not change afterwards
    (``bytes``).
    """

    def __init__(self, algorithm):
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm) if algorithm else None
        self._pool = (concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix='image-hash') if algorithm else None)
        self._pending = collections.deque()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def update(self, data):
        if self._hash is None:
            return
        self._pending.append(self._pool.submit(self._hash.update, data))
        while len(self._pending) > _BEHIND:
            self._pending.popleft().result()

    def hexdigest(self):
        """The hash of everything passed to :meth:`update`."""
        if self._hash is None:
            return None
        while self._pending:
            self._pending.popleft().result()
        return self._hash.hexdigest()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def hashing(chunks, digest):
    """Pass the byte strings of ``chunks`` through, hashing them."""
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def repository_digest(repo, backup_id, disk_name, algorithm, size):
    """Hex ``algorithm`` hash of a disk of a backup read (verified) from
    ``repo``, followed by zeros up to ``size`` bytes (a volume larger than
    the disk)."""
    digest = hashlib.new(algorithm)
    read = 0
    for data in repo.read_disk(backup_id, disk_name):
        digest.update(data)
        read += len(data)
    zeros = bytes(1 << 20)
    while read < size:
        piece = memoryview(zeros)[:min(len(zeros), size - read)]
        digest.update(piece)
        read += len(piece)
    return digest.hexdigest()


def mismatch(what, algorithm, actual, expected, hint):
    """The error of bytes whose hash is not the one expected."""
    return exceptions.BackupFlowsError(
        '%s does not hold the expected bytes: %s %s..., expected %s...; %s'
        % (what, algorithm, actual[:16], expected[:16], hint))
