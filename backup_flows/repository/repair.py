"""Repair: drop the damaged copies of chunks that have a good copy.

Runs under the exclusive lock (no backup is being written, nobody reads):

1. A deep check of every copy of every referenced chunk (check.scan).
2. Each damaged copy of a chunk that has a good copy elsewhere is dropped:
   its pack is rewritten without it (every other blob copied as stored,
   still sealed, referenced or not); a pack left empty is deleted; a
   missing pack loses its index entries. Packs whose SHA-256 does not
   match their name are rewritten too (the damage is in bytes no chunk
   uses, or in the trailer).
3. Copies with no good copy anywhere are kept as they are, recorded in a
   ``damaged/`` object, and reported with the backups, disks and offsets
   they affect: the next backup of the same data stores the chunk again
   (writers do not deduplicate against a damaged copy), which makes those
   backups readable, and a later repair drops the damaged copy.

Order, for crash safety: new packs, then an index file naming them and the
other packs of every index file that named a changed pack, then the new
``damaged/`` object, then the old index files, the old packs and the old
``damaged/`` objects are deleted. A crash leaves both versions, never a
chunk without its good copy.

:func:`rebuild_index` (``repository rebuild-index``) replaces the index
files by one built from the pack trailers.
"""

import time

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository import check
from backup_flows.repository import index as index_mod
from backup_flows.repository import locks
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import pending as pending_mod
from backup_flows.repository import prune
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)


def _rewrite_pack(repo, pack_id, entries, drop):
    """Write pack ``pack_id`` again without the copies in ``drop``; return
    ``(new pack id or None, new entries)`` (``None``: nothing is left)."""
    kept = [e for e in entries if (pack_id, e[0]) not in drop]
    if not kept:
        return None, []
    data = repo.backend.get(pack_mod.pack_name(pack_id))
    builder = pack_mod.PackBuilder()
    for chunk_id, offset, length, raw in kept:
        builder.add(chunk_id, data[offset:offset + length], raw)
    new_data, new_entries = builder.finish(repo.keys)
    new_id = pack_mod.pack_id(new_data)
    repo.backend.put(pack_mod.pack_name(new_id), new_data)
    return new_id, new_entries


def _packs_to_change(found, drop, keep):
    """Packs holding a copy to drop, and damaged packs whose damage no
    kept copy explains (it is in bytes no chunk uses, or the trailer)."""
    explained = {p for p, _ in keep}
    return sorted({p for p, _ in drop} |
                  {p for p in found['damaged_packs'] if p not in explained})


def _changed_packs(repo, index, found, drop, keep):
    """Rewrite the packs that need it; return ``({old id: (new id or
    None, entries)}, {old id: new id})`` (the latter for packs that still
    exist afterwards)."""
    changed = {}
    for pack_id in _packs_to_change(found, drop, keep):
        entries = index.packs.get(pack_id, [])
        if pack_id in found['missing_packs']:
            # Nothing to copy: the index keeps only the entries of chunks
            # with no copy at all, so they are still reported.
            changed[pack_id] = (pack_id, [e for e in entries
                                          if (pack_id, e[0]) in keep])
            continue
        try:
            changed[pack_id] = _rewrite_pack(repo, pack_id, entries, drop)
        except base.ObjectNotFound:
            LOG.warning('Pack %s vanished during the repair', pack_id)
            changed[pack_id] = (pack_id, [e for e in entries
                                          if (pack_id, e[0]) not in drop])
    renamed = {old: new for old, (new, _) in changed.items() if new}
    return changed, renamed


def _write_index(repo, index, changed):
    """Write one index file replacing every index file that names a
    changed pack; return the names of those old files."""
    old_files = [name for name, packs in index.files.items()
                 if any(p in changed for p in packs)]
    packs = {}
    for name in old_files:
        for pack_id in index.files[name]:
            if pack_id not in changed:
                packs[pack_id] = index.packs[pack_id]
    for new_id, entries in changed.values():
        if new_id and entries:
            packs[new_id] = entries
    if packs:
        name, data = index_mod.encode(repo.keys, packs)
        repo.backend.put(name, data)
        old_files = [n for n in old_files if n != name]
    return old_files


def _apply(repo, lock, index, found, drop, keep):
    """Rewrite packs, index and ``damaged/`` objects; return ``(remaining
    damaged copies with their new packs, changed packs, packs rewritten,
    packs deleted)``."""
    changed, renamed = _changed_packs(repo, index, found, drop, keep)
    old_files = _write_index(repo, index, changed)
    # A kept copy moves with the rest of its pack when the pack is
    # rewritten (its reason names the pack).
    remaining = {(renamed.get(p, p), c): reason.replace(p, renamed.get(p, p))
                 for (p, c), reason in keep.items()}
    new_record = index_mod.save_damaged(repo.backend, repo.keys, remaining)
    # Nothing is deleted unless the lock is still ours.
    lock.check()
    for name in old_files:
        repo.backend.delete(name)
    # Pack names are content hashes: a rewritten pack may bear the name
    # of an old one (same bytes), which must then stay.
    written = {new for new, _ in changed.values() if new}
    for old in changed:
        if old not in written and old not in found['missing_packs']:
            repo.backend.delete(pack_mod.pack_name(old))
    for name in index.damaged_files:
        if name != new_record:
            repo.backend.delete(name)
    rewritten = sum(1 for old, (new, _) in changed.items()
                    if new and old not in found['missing_packs'])
    deleted = sum(1 for old, (new, _) in changed.items() if new is None)
    return remaining, changed, rewritten, deleted


def run(repo):
    """Repair ``repo``; return the check report of the repository after
    the repair (see check.py) plus ``dropped_copies`` (``[{"chunk",
    "pack", "reason"}]``), ``packs_rewritten`` and ``packs_deleted``.

    :raises RepositoryLocked: another process uses the repository, or
        the lock was lost before the old objects were deleted.
    """
    with repo.lock(locks.EXCLUSIVE) as lock:
        documents, manifest_errors = repo.load_manifests()
        index = repo.load_index()
        referenced, list_errors = check.referenced_chunks(repo, documents)
        found = check.scan(repo, index, referenced, deep=True)
        bad = check.bad_chunks(index, referenced, found['copies'])
        drop = {k: r for k, r in found['copies'].items() if k[1] not in bad}
        keep = {k: r for k, r in found['copies'].items() if k[1] in bad}
        try:
            remaining, changed, rewritten, deleted = _apply(
                repo, lock, index, found, drop, keep)
        except locks.LockLost as exc:
            raise exceptions.RepositoryLocked(
                url=repo.url, reason='%s; nothing was deleted since, run '
                'the repair again' % exc)
        index = repo.load_index()
        missing = sorted(p for p in found['missing_packs']
                         if p in index.packs)
        listed = {pack_mod.pack_id_from_name(name)
                  for name, _ in repo.backend.list(pack_mod.PREFIX)}
        unreferenced = listed - set(check.copies_by_pack(index, referenced))
        affected = check.affected_backups(repo, documents, bad,
                                          manifest_errors, list_errors)
    report = {
        'ok': not (remaining or bad or manifest_errors or index.errors or
                   list_errors or set(found['damaged_packs']) - set(changed)),
        'deep': True,
        'backups': len(documents) + len(manifest_errors),
        'chunks_checked': len(referenced),
        'packs_checked': found['packs_checked'],
        'damaged_manifests': manifest_errors,
        'index_errors': dict(index.errors),
        'missing_packs': missing,
        'damaged_packs': {p: reason for p, reason in
                          found['damaged_packs'].items() if p not in changed},
        'damaged_copies': check.damaged_copies(remaining, bad),
        'bad_chunks': {c.hex(): reason for c, reason in sorted(bad.items())},
        'affected': affected,
        'unreferenced_packs': len(unreferenced),
        'dropped_copies': [{'chunk': c.hex(), 'pack': p, 'reason': reason}
                           for (p, c), reason in sorted(drop.items())],
        'packs_rewritten': rewritten,
        'packs_deleted': deleted,
    }
    LOG.info('Repair of %s: dropped %d damaged copies (%d packs rewritten, '
             '%d deleted); %d chunks have no good copy, %d backups affected',
             repo.url, len(drop), rewritten, deleted, len(bad), len(affected))
    return report


def rebuild_index(repo):
    """Replace every index file by one built from the pack trailers
    (index files younger than ``prune_grace`` are kept: their packs may
    not be listed yet).

    :returns: ``{"packs": n, "chunks": n, "unreadable_packs": {name:
        reason}}``
    """
    with repo.lock(locks.EXCLUSIVE) as lock:
        now = time.time()
        cutoff = now - repo.settings.prune_grace
        state = pending_mod.load(repo.backend, repo.keys)
        old = [name for name, _, modified
               in repo.backend.list_modified(index_mod.PREFIX)
               if not prune.is_young(modified, cutoff)
               or name in state.index_files]
        index, unreadable = index_mod.rebuild(repo.backend, repo.keys)
        new_files = prune.write_indexes(repo, index.packs)
        lock.check()
        pending_mod.save(repo.backend, repo.keys, state, state.pending,
                         new_files, now)
        # Prune's own index files go too, listed or not.
        for name in (set(old) | state.index_files) - set(new_files):
            repo.backend.delete(name)
        repo.load_index()
    return {'packs': len(index.packs), 'chunks': len(index.chunks),
            'unreadable_packs': unreadable}
