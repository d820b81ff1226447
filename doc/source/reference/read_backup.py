"""Read one disk of a backup from a file repository, without backup-flows.

Needs only the Python packages blake3, zstandard and cryptography.
Usage::

    python read_backup.py REPOSITORY BACKUP_ID DISK OUTPUT [SECRET]

SECRET (encrypted repositories): the passphrase, or for a repository
unlocked by a raw key the 64 hexadecimal digits of that key.
"""

import base64
import hashlib
import json
import os
import struct
import sys

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
import zstandard


def get(root, name):
    with open(os.path.join(root, *name.split('/')), 'rb') as f:
        return f.read()


def unwrap(plaintext, max_size):
    """codec byte || payload -> data."""
    if plaintext[0] == 0:
        return plaintext[1:]
    if plaintext[0] == 1:
        return zstandard.ZstdDecompressor().decompress(
            plaintext[1:], max_output_size=max_size)
    raise ValueError('unknown codec %d' % plaintext[0])


class Keys:
    def __init__(self, root, config, secret):
        self.aead = self.id_key = None
        if config['encryption'] == 'none':
            return
        key_file = json.loads(get(root, 'keys/key'))
        assert key_file['version'] == 1
        kdf = key_file['kdf']
        if kdf['name'] == 'none':
            kek = bytes.fromhex(secret.strip())
        else:
            kek = Scrypt(salt=base64.b64decode(kdf['salt']), length=32,
                         n=kdf['n'], r=kdf['r'], p=kdf['p']).derive(
                             secret.encode('utf-8'))
        material = AESGCM(kek).decrypt(
            base64.b64decode(key_file['nonce']),
            base64.b64decode(key_file['wrapped_keys']),
            config['id'].encode('ascii'))
        self.aead = AESGCM(material[:32])
        self.id_key = material[32:]

    def open(self, stored, aad):
        if self.aead is None:
            return stored
        return self.aead.decrypt(stored[:12], stored[12:], aad)

    def metadata(self, stored, aad):
        if self.aead is None:
            plaintext, checksum = stored[:-32], stored[-32:]
            if hashlib.sha256(plaintext).digest() != checksum:
                raise ValueError('metadata checksum mismatch')
        else:
            plaintext = self.open(stored, aad)
        return unwrap(plaintext, 1 << 31)

    def chunk_id(self, data):
        if self.id_key is None:
            return blake3.blake3(data).digest()
        return blake3.blake3(data, key=self.id_key).digest()


def load_index(root, keys):
    """chunk id (bytes) -> [(pack id, offset, length, raw length)]: every
    copy of the chunk."""
    index = {}
    for name in sorted(os.listdir(os.path.join(root, 'index'))):
        if name.startswith('.tmp-'):
            continue
        document = json.loads(keys.metadata(get(root, 'index/' + name),
                                            b'index'))
        assert document['version'] == 1
        for pack_id, entries in document['packs'].items():
            for chunk_hex, offset, length, raw in entries:
                index.setdefault(bytes.fromhex(chunk_hex), []).append(
                    (pack_id, offset, length, raw))
    return index


def read_chunk(root, keys, chunk_id, copies, length):
    """The chunk from the first of its copies that verifies."""
    for pack_id, offset, stored_length, raw in copies:
        try:
            with open(os.path.join(root, 'packs', pack_id[:2], pack_id),
                      'rb') as pack:
                pack.seek(offset)
                data = unwrap(keys.open(pack.read(stored_length), chunk_id),
                              raw)
        except (OSError, ValueError, InvalidTag, zstandard.ZstdError):
            continue  # a missing pack, or a damaged copy: try another
        if length in (None, len(data)) and keys.chunk_id(data) == chunk_id:
            return data
    raise ValueError('no good copy of chunk %s' % chunk_id.hex())


def varint(data, pos):
    """An unsigned LEB128 integer at ``pos``; return it and the next pos."""
    value = shift = 0
    while True:
        value |= (data[pos] & 0x7f) << shift
        pos += 1
        if data[pos - 1] < 0x80:
            return value, pos
        shift += 7


def list_entries(read, list_id):
    """Yield ``(chunk id or None, length)`` of a chunk list object, the
    entries of the list objects it names in place of them."""
    data = read(list_id, None)
    assert data[:5] == b'BFCL\x01', 'not a chunk list object'
    pos = 5
    while pos < len(data):
        kind = data[pos]
        length, pos = varint(data, pos + 1)
        if kind == 0:                      # a zero run
            yield None, length
            continue
        if kind == 2:                      # a list object: its count
            _, pos = varint(data, pos)
        assert kind in (1, 2), 'unknown entry type %d' % kind
        entry_id = data[pos:pos + 32]
        pos += 32
        if kind == 1:
            yield entry_id, length
        else:
            yield from list_entries(read, entry_id)


def disk_chunks(disk, read):
    """``(chunk id or None, length)`` of a disk, in order."""
    if 'chunks' in disk:                   # manifest version 1
        return ((None if c is None else bytes.fromhex(c), n)
                for c, n in disk['chunks'])
    return list_entries(read, bytes.fromhex(disk['chunk_list']))


def main(root, backup_id, disk_name, output, secret=None):
    config = json.loads(get(root, 'config'))
    assert config['format'] == 'backup-flows-repository'
    assert config['version'] <= 1
    keys = Keys(root, config, secret)
    manifest = json.loads(keys.metadata(
        get(root, 'manifests/' + backup_id),
        b'manifest:' + backup_id.encode('utf-8')))
    assert manifest['version'] <= 2 and manifest['id'] == backup_id
    disk = [d for d in manifest['disks'] if d['name'] == disk_name][0]
    index = load_index(root, keys)

    def read(chunk_id, length):
        return read_chunk(root, keys, chunk_id, index.get(chunk_id, []),
                          length)

    digest = hashlib.sha256()
    with open(output, 'wb') as out:
        for chunk_id, length in disk_chunks(disk, read):
            data = bytes(length) if chunk_id is None else read(chunk_id,
                                                               length)
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != disk['sha256']:
        raise ValueError('whole-disk SHA-256 mismatch')


def pack_entries(pack_bytes, keys):
    """The trailer of a pack: [(chunk id, offset, length, raw length)]."""
    size, magic = struct.unpack('<I8s', pack_bytes[-12:])
    assert magic == b'BFPACK01'
    trailer = keys.metadata(pack_bytes[-12 - size:-12], b'pack')
    entries = list(struct.iter_unpack('<B32sIII', trailer))
    assert all(entry[0] == 0 for entry in entries)  # 0: chunk
    return [entry[1:] for entry in entries]


if __name__ == '__main__':
    main(*sys.argv[1:])
