"""Checking a repository and computing its statistics.

Quick check: every manifest is readable; every chunk it references is in
the index; the pack holding it exists and is long enough. Deep check, in
addition: every pack is read whole, its SHA-256 must equal its name, and
every chunk in it is decrypted, decompressed and re-hashed.

The report (a JSON-serialisable dict)::

    {"ok": bool, "deep": bool, "backups": 12, "chunks_checked": 4242,
     "packs_checked": 17,
     "damaged_manifests": {"<backup id>": "<reason>"},
     "index_errors": {"index/<id>": "<reason>"},
     "missing_packs": ["<pack id>"], "damaged_packs": {"<pack id>": "..."},
     "bad_chunks": {"<chunk id>": "<reason>"},
     "affected": [{"backup": "<id>", "server": "...",
                   "disks": [{"name": "vda", "bad_chunks": 3,
                              "first_bad_offset": 1048576}]}],
     "unreferenced_packs": 2}

``affected`` names exactly the backups and disks that cannot be restored
intact. Unreferenced packs (left by interrupted backups) are not errors;
prune removes them.
"""

import collections
import hashlib

from oslo_log import log as logging

from backup_flows.repository import crypto
from backup_flows.repository import pack as pack_mod
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)


def referenced_chunks(documents):
    """chunk id -> raw length for every chunk of ``documents``."""
    chunks = {}
    for document in documents:
        for disk in document['disks']:
            for hex_id, length in disk['chunks']:
                if hex_id is not None:
                    chunks[bytes.fromhex(hex_id)] = length
    return chunks


def _verify_pack(repo, pack_id, entries, wanted):
    """Read one pack whole; return ``(pack_error, {chunk_id: reason})``."""
    try:
        data = repo.backend.get(pack_mod.pack_name(pack_id))
    except base.ObjectNotFound:
        return 'missing', {c: 'pack missing' for c, *_ in entries
                           if c in wanted}
    pack_error = None
    if hashlib.sha256(data).hexdigest() != pack_id:
        pack_error = 'content does not match its SHA-256 name'
    bad = {}
    for chunk_id, offset, length, raw in entries:
        if chunk_id not in wanted:
            continue
        stored = data[offset:offset + length]
        try:
            if len(stored) != length:
                raise crypto.IntegrityError('pack truncated')
            pack_mod.decode_blob(repo.keys, chunk_id, stored, raw)
        except crypto.IntegrityError as exc:
            bad[chunk_id] = 'damaged in pack %s: %s' % (pack_id, exc)
    return pack_error, bad


def run(repo, deep=False, documents=None):
    """Check ``repo`` (its caller holds a shared lock); return the report.

    :param documents: check only these manifests (already read) instead of
        every backup; ``unreferenced_packs`` then counts the packs none of
        them uses.
    """
    if documents is None:
        documents, manifest_errors = repo.load_manifests()
    else:
        manifest_errors = {}
    index = repo.load_index()
    pack_sizes = {pack_mod.pack_id_from_name(name): size
                  for name, size in repo.backend.list(pack_mod.PREFIX)}
    referenced = referenced_chunks(documents)
    bad = {}
    missing_packs = set()
    for chunk_id in referenced:
        location = index.lookup(chunk_id)
        if location is None:
            bad[chunk_id] = 'not in the index'
            continue
        pack_id, offset, length, _ = location
        size = pack_sizes.get(pack_id)
        if size is None:
            missing_packs.add(pack_id)
            bad[chunk_id] = 'pack %s is missing' % pack_id
        elif offset + length > size:
            bad[chunk_id] = 'pack %s is truncated' % pack_id
    damaged_packs = {}
    packs_checked = 0
    if deep:
        by_pack = collections.defaultdict(list)
        for chunk_id in referenced:
            location = index.lookup(chunk_id)
            if location is not None and location[0] in pack_sizes:
                by_pack[location[0]].append((chunk_id,) + location[1:])
        futures = [(pack_id, repo.read_pool.submit(_verify_pack, repo,
                                                   pack_id, entries,
                                                   referenced))
                   for pack_id, entries in by_pack.items()]
        for pack_id, future in futures:
            pack_error, pack_bad = future.result()
            packs_checked += 1
            if pack_error:
                damaged_packs[pack_id] = pack_error
            for chunk_id, reason in pack_bad.items():
                bad.setdefault(chunk_id, reason)
    affected = []
    for document in documents:
        disks = []
        for disk in document['disks']:
            count, first, offset = 0, None, 0
            for hex_id, length in disk['chunks']:
                if hex_id is not None and bytes.fromhex(hex_id) in bad:
                    count += 1
                    first = offset if first is None else first
                offset += length
            if count:
                disks.append({'name': disk['name'], 'bad_chunks': count,
                              'first_bad_offset': first})
        if disks:
            affected.append({'backup': document['id'],
                             'server': document['server'], 'disks': disks})
    for backup_id in manifest_errors:
        affected.append({'backup': backup_id, 'server': None,
                         'disks': [], 'manifest': 'unreadable'})
    affected.sort(key=lambda a: a['backup'])
    referenced_packs = {index.lookup(c)[0] for c in referenced
                        if index.lookup(c) is not None}
    report = {
        'ok': not (bad or manifest_errors or index.errors or damaged_packs),
        'deep': deep,
        'backups': len(documents) + len(manifest_errors),
        'chunks_checked': len(referenced),
        'packs_checked': packs_checked,
        'damaged_manifests': manifest_errors,
        'index_errors': dict(index.errors),
        'missing_packs': sorted(missing_packs),
        'damaged_packs': damaged_packs,
        'bad_chunks': {c.hex(): reason for c, reason in sorted(bad.items())},
        'affected': affected,
        'unreferenced_packs': len(set(pack_sizes) - referenced_packs),
    }
    LOG.info('Check of %s (%s): %s, %d affected backups', repo.url,
             'deep' if deep else 'quick', 'ok' if report['ok'] else 'FAILED',
             len(affected))
    return report


def stats(repo):
    """Sizes and ratios of the repository (caller holds a shared lock)::

        {"backups": n, "logical_bytes": sum of disk sizes,
         "zero_bytes": bytes in zero runs, "unique_bytes": raw size of
         distinct referenced chunks, "stored_bytes": size of all packs,
         "packs": n, "chunks": n distinct referenced,
         "dedup_ratio": (logical - zero) / unique,
         "compression_ratio": unique / stored chunk bytes}
    """
    documents, _ = repo.load_manifests()
    index = repo.load_index()
    logical = zero = 0
    for document in documents:
        for disk in document['disks']:
            logical += disk['size']
            zero += sum(length for hex_id, length in disk['chunks']
                        if hex_id is None)
    referenced = referenced_chunks(documents)
    unique = sum(referenced.values())
    stored_chunks = sum(index.lookup(c)[2] for c in referenced
                        if index.lookup(c) is not None)
    packs = list(repo.backend.list(pack_mod.PREFIX))
    return {
        'backups': len(documents),
        'logical_bytes': logical,
        'zero_bytes': zero,
        'unique_bytes': unique,
        'stored_bytes': sum(size for _, size in packs),
        'packs': len(packs),
        'chunks': len(referenced),
        'dedup_ratio': round((logical - zero) / unique, 3) if unique else None,
        'compression_ratio': (round(unique / stored_chunks, 3)
                              if stored_chunks else None),
    }
