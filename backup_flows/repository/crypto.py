"""Chunk ids, encryption and the envelope of every stored object.

Unencrypted repositories use plain BLAKE3-256 chunk ids; encrypted ones use
keyed BLAKE3 (the id key is secret, so ids reveal nothing about content) and
AES-256-GCM with a random 96-bit nonce per object.

Envelope of a stored object (chunk blob, pack trailer, index, manifest)::

    plaintext  = codec (1 byte) || payload          (see compression.py)
    encrypted  = nonce (12) || AES-GCM(plaintext, aad) (ciphertext || tag 16)
    plain repo = plaintext                              for chunk blobs
               = plaintext || SHA-256(plaintext)        for metadata

``aad`` binds the object to its role: the chunk id for a blob, b"pack" for a
pack trailer, b"index" for an index, b"manifest:" + backup id for a manifest.
"""

import hashlib
import os

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import aead

from backup_flows.repository import compression

ENCRYPTION_NONE = 'none'
ENCRYPTION_AES_GCM = 'aes-256-gcm'
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
CHECKSUM_SIZE = 32


class IntegrityError(ValueError):
    """Stored bytes do not authenticate or do not match their checksum."""


class Keys:
    """The secret material of a repository.

    :param encryption_key: 32-byte AES key, ``None`` when unencrypted.
    :param id_key: 32-byte BLAKE3 key for chunk ids, ``None`` when
        unencrypted.
    """

    def __init__(self, encryption_key=None, id_key=None):
        self.encrypted = encryption_key is not None
        self._encryption_key = encryption_key
        self._aead = aead.AESGCM(encryption_key) if self.encrypted else None
        self._id_key = id_key

    @classmethod
    def generate(cls):
        """Return new random keys for an encrypted repository."""
        return cls(os.urandom(KEY_SIZE), os.urandom(KEY_SIZE))

    @classmethod
    def from_material(cls, material):
        """Invert :meth:`material`."""
        if len(material) != 2 * KEY_SIZE:
            raise IntegrityError('key material has %d bytes, not %d'
                                 % (len(material), 2 * KEY_SIZE))
        return cls(material[:KEY_SIZE], material[KEY_SIZE:])

    def material(self):
        """The 64 bytes wrapped in the key file: AES key || id key."""
        return self._encryption_key + self._id_key

    def chunk_id(self, data):
        """Return the 32-byte id of chunk ``data``."""
        if self._id_key is None:
            return blake3.blake3(data).digest()
        return blake3.blake3(data, key=self._id_key).digest()

    def seal_blob(self, plaintext, aad):
        """Envelope of a chunk blob (no checksum: the id verifies it)."""
        if not self.encrypted:
            return plaintext
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open_blob(self, stored, aad):
        """Invert :meth:`seal_blob`; raise :class:`IntegrityError`."""
        if not self.encrypted:
            return stored
        if len(stored) < NONCE_SIZE + TAG_SIZE:
            raise IntegrityError('encrypted object is truncated')
        try:
            return self._aead.decrypt(stored[:NONCE_SIZE],
                                      stored[NONCE_SIZE:], aad)
        except InvalidTag:
            raise IntegrityError('authentication failed (damaged, or '
                                 'sealed with another key)')

    def seal_metadata(self, data, aad, level=3):
        """Compress and seal a metadata object (JSON or trailer bytes)."""
        codec, payload = compression.compress(data, level)
        plaintext = bytes([codec]) + payload
        if self.encrypted:
            return self.seal_blob(plaintext, aad)
        return plaintext + hashlib.sha256(plaintext).digest()

    def open_metadata(self, stored, aad, max_size=1 << 31):
        """Invert :meth:`seal_metadata`; raise :class:`IntegrityError`."""
        if self.encrypted:
            plaintext = self.open_blob(stored, aad)
        else:
            plaintext = stored[:-CHECKSUM_SIZE]
            if (len(stored) < CHECKSUM_SIZE + 1 or
                    hashlib.sha256(plaintext).digest() !=
                    stored[-CHECKSUM_SIZE:]):
                raise IntegrityError('checksum mismatch (damaged or '
                                     'truncated)')
        try:
            return compression.decompress(plaintext[0], plaintext[1:],
                                          max_size)
        except ValueError as exc:
            raise IntegrityError(str(exc))
