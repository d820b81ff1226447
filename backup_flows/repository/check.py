"""Checking a repository and computing its statistics.

Every copy of every referenced chunk is checked (a chunk may be stored in
several packs). Quick check: every manifest is readable; every chunk it
references is in the index; the packs holding its copies exist and are long
enough. Deep check, in addition: every pack holding a copy is read whole,
its SHA-256 must equal its name, and every copy in it is decrypted,
decompressed and re-hashed. The copies a deep check finds damaged are
recorded in a ``damaged/`` object (see index.py), so readers go to the
other copies and backups store the chunk again.

The report (a JSON-serialisable dict)::

    {"ok": bool, "deep": bool, "backups": 12, "chunks_checked": 4242,
     "packs_checked": 17,
     "damaged_manifests": {"<backup id>": "<reason>"},
     "index_errors": {"index/<id>": "<reason>"},
     "missing_packs": ["<pack id>"], "damaged_packs": {"<pack id>": "..."},
     "damaged_copies": [{"chunk": "<chunk id>", "pack": "<pack id>",
                         "reason": "...", "good_copy": bool}],
     "bad_chunks": {"<chunk id>": "<reason>"},
     "affected": [{"backup": "<id>", "server": "...",
                   "disks": [{"name": "vda", "bad_chunks": 3,
                              "first_bad_offset": 1048576,
                              "bad_offsets": [1048576, ...]}]}],
     "unreferenced_packs": 2}

``damaged_copies`` names every damaged copy; ``good_copy`` says whether
the chunk has another, good one (then nothing is lost and ``check
--repair`` drops the damaged copy). ``bad_chunks`` are the chunks with no
good copy, and ``affected`` names exactly the backups and disks that cannot
be restored intact, with the offsets of those chunks. Unreferenced packs
(left by interrupted backups) are not errors; prune removes them.
"""

import collections
import hashlib

from oslo_log import log as logging

from backup_flows.repository import crypto
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import reader
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)


def referenced_chunks(repo, documents):
    """Return ``(chunks, list_errors)``: chunk id -> raw length of every
    chunk and chunk list object of ``documents`` (list objects are read
    through ``repo.index``, each once), and ``{(backup id, disk name):
    reader.ChunkError}`` for the disks whose list could not be read whole.
    The id of an unreadable list object is in ``chunks`` (length 0); the
    chunks it lists are not: a caller that deletes data must refuse to
    go on when ``list_errors`` is not empty.
    """
    chunks, errors, seen = {}, {}, set()
    for document in documents:
        for disk in document['disks']:
            try:
                for chunk_id, length, _ in reader.disk_ids(repo, disk, seen):
                    chunks[chunk_id] = length
            except reader.ChunkError as exc:
                chunks.setdefault(exc.chunk_id, 0)
                errors[document['id'], disk['name']] = exc
    return chunks, errors


def _verify_pack(repo, pack_id, entries):
    """Read one pack whole; return ``(pack_error, {chunk_id: reason})``
    for its copies ``entries``."""
    try:
        data = repo.backend.get(pack_mod.pack_name(pack_id))
    except base.ObjectNotFound:
        return 'missing', {c: 'pack %s is missing' % pack_id
                           for c, *_ in entries}
    pack_error = None
    if hashlib.sha256(data).hexdigest() != pack_id:
        pack_error = 'content does not match its SHA-256 name'
    bad = {}
    for chunk_id, offset, length, raw in entries:
        stored = data[offset:offset + length]
        try:
            if len(stored) != length:
                raise crypto.IntegrityError('pack truncated')
            pack_mod.decode_blob(repo.keys, chunk_id, stored, raw)
        except crypto.IntegrityError as exc:
            bad[chunk_id] = 'damaged in pack %s: %s' % (pack_id, exc)
    return pack_error, bad


def copies_by_pack(index, chunks):
    """pack id -> ``(chunk_id, offset, length, raw)`` of every copy of
    ``chunks``."""
    by_pack = collections.defaultdict(list)
    for chunk_id in chunks:
        for pack_id, offset, length, raw in index.locations(chunk_id):
            by_pack[pack_id].append((chunk_id, offset, length, raw))
    return by_pack


def scan(repo, index, chunks, deep):
    """Check every copy of ``chunks``; return ``{"copies": {(pack id,
    chunk id): reason} of bad copies, "missing_packs": set,
    "damaged_packs": {pack id: reason}, "packs_checked": n, "pack_sizes":
    {pack id: size} (listed), "by_pack": copies_by_pack()}``.

    Quick: the listing must show each pack, long enough. Deep: each pack
    is read (its absence proven by a failed read, not by the listing).
    """
    pack_sizes = {pack_mod.pack_id_from_name(name): size
                  for name, size in repo.backend.list(pack_mod.PREFIX)}
    by_pack = copies_by_pack(index, chunks)
    result = {'copies': {}, 'missing_packs': set(), 'damaged_packs': {},
              'packs_checked': 0, 'pack_sizes': pack_sizes,
              'by_pack': by_pack}
    copies = result['copies']
    if not deep:
        for pack_id, entries in by_pack.items():
            size = pack_sizes.get(pack_id)
            if size is None:
                result['missing_packs'].add(pack_id)
            for chunk_id, offset, length, _ in entries:
                if size is None:
                    copies[pack_id, chunk_id] = 'pack %s is missing' % pack_id
                elif offset + length > size:
                    copies[pack_id, chunk_id] = ('pack %s is truncated'
                                                 % pack_id)
        return result
    futures = [(pack_id, repo.read_pool.submit(_verify_pack, repo, pack_id,
                                               entries))
               for pack_id, entries in by_pack.items()]
    for pack_id, future in futures:
        pack_error, pack_bad = future.result()
        result['packs_checked'] += 1
        if pack_error == 'missing':
            result['missing_packs'].add(pack_id)
        elif pack_error:
            result['damaged_packs'][pack_id] = pack_error
        for chunk_id, reason in pack_bad.items():
            copies[pack_id, chunk_id] = reason
    return result


def bad_chunks(index, chunks, copies):
    """chunk id -> reason for each of ``chunks`` without a good copy."""
    bad = {}
    for chunk_id in chunks:
        locations = index.locations(chunk_id)
        if not locations:
            bad[chunk_id] = 'not in the index'
        elif all((loc[0], chunk_id) in copies for loc in locations):
            bad[chunk_id] = '; '.join(copies[loc[0], chunk_id]
                                      for loc in locations)
    return bad


def _bad_offsets(repo, disk, bad):
    """Offsets of the chunks of ``disk`` in ``bad`` and the reason its
    chunk list could not be read to the end (then the offset where the
    unreadable list object starts is the last one)."""
    offsets, offset = [], 0
    try:
        for chunk_id, length in reader.disk_chunks(repo, disk):
            if chunk_id is not None and chunk_id in bad:
                offsets.append(offset)
            offset += length
    except reader.ChunkError as exc:
        offsets.append(exc.offset)
        return offsets, str(exc)
    return offsets, None


def affected_backups(repo, documents, bad, manifest_errors, list_errors):
    """The ``affected`` list of the report (sorted by backup id)."""
    affected = []
    for document in documents:
        disks = []
        for disk in document['disks']:
            if not bad and (document['id'], disk['name']) not in list_errors:
                continue
            offsets, list_error = _bad_offsets(repo, disk, bad)
            if offsets:
                disks.append({'name': disk['name'],
                              'bad_chunks': len(offsets),
                              'first_bad_offset': offsets[0],
                              'bad_offsets': offsets})
                if list_error:
                    disks[-1]['chunk_list'] = list_error
        if disks:
            affected.append({'backup': document['id'],
                             'server': document['server'], 'disks': disks})
    for backup_id in manifest_errors:
        affected.append({'backup': backup_id, 'server': None,
                         'disks': [], 'manifest': 'unreadable'})
    affected.sort(key=lambda a: a['backup'])
    return affected


def damaged_copies(copies, bad):
    """The ``damaged_copies`` list of the report."""
    return [{'chunk': chunk_id.hex(), 'pack': pack_id, 'reason': reason,
             'good_copy': chunk_id not in bad}
            for (pack_id, chunk_id), reason in sorted(
                copies.items(), key=lambda item: (item[0][1], item[0][0]))]


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
    referenced, list_errors = referenced_chunks(repo, documents)
    found = scan(repo, index, referenced, deep)
    if deep:
        for (pack_id, chunk_id), reason in found['copies'].items():
            index.mark_damaged(pack_id, chunk_id, reason)
        reader.record_damage(repo)
    bad = bad_chunks(index, referenced, found['copies'])
    affected = affected_backups(repo, documents, bad, manifest_errors,
                                list_errors)
    report = {
        'ok': not (found['copies'] or bad or manifest_errors or list_errors
                   or index.errors or found['damaged_packs']),
        'deep': deep,
        'backups': len(documents) + len(manifest_errors),
        'chunks_checked': len(referenced),
        'packs_checked': found['packs_checked'],
        'damaged_manifests': manifest_errors,
        'index_errors': dict(index.errors),
        'missing_packs': sorted(found['missing_packs']),
        'damaged_packs': found['damaged_packs'],
        'damaged_copies': damaged_copies(found['copies'], bad),
        'bad_chunks': {c.hex(): reason for c, reason in sorted(bad.items())},
        'affected': affected,
        'unreferenced_packs': len(set(found['pack_sizes']) -
                                  set(found['by_pack'])),
    }
    LOG.info('Check of %s (%s): %s, %d damaged copies, %d affected backups',
             repo.url, 'deep' if deep else 'quick',
             'ok' if report['ok'] else 'FAILED', len(found['copies']),
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
            zero += disk['zero_bytes'] if 'zero_bytes' in disk else sum(
                length for hex_id, length in disk['chunks'] if hex_id is None)
    referenced, _ = referenced_chunks(repo, documents)
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
