"""Prune: forget backups by retention policy, then collect garbage.

Runs under the exclusive lock. Object listings may lag (Swift's are
eventually consistent): a backup committed seconds ago may be missing from
the manifest listing, a pack or index file just written from theirs. So
nothing is deleted on the strength of a listing alone:

* Packs and index files written less than ``prune_grace`` seconds ago
  (storage time) are never deleted, rewritten or repacked, nor are the
  packs those index files name. A backup's own new data is that young
  until well after its manifest is visible.
* A pack found unused (no chunk referenced by a manifest seen, or each such
  chunk kept in another pack) is first recorded as *pending* (see
  pending.py) and deleted by a later prune, ``prune_grace`` after it was
  first found unused, if it is still unused then and no writer rescued it.
  This covers the older chunks a new backup deduplicated against: its
  manifest, hidden from the first prune, is visible to the later one.
* An indexed pack missing from the listing is read directly before its
  index entries are dropped.
* Before deleting packs, prune waits a quarter of the grace period (at
  most 30 s) after taking its lock and lists the shared locks again: a backup
  that started a moment before (its lock not listed at first) makes the
  packs stay pending, so it never finds a chunk it deduplicated against
  deleted under it.

Steps, in a crash-safe order:

1. Read every manifest and the chunk lists of those that stay (refuse to
   continue if one is unreadable: its chunks would be collected), the
   index, the prune records and the trailers of packs the index does not
   cover.
2. Delete the manifests the policy forgets.
3. Classify the packs that are old enough: unused -> pending, or deleted
   when pending for ``prune_grace``; at least ``repack_threshold`` of the
   bytes unused -> copy the used blobs (as stored, still sealed) into new
   packs, the old pack becomes pending.
4. Write the repacked packs, new index files covering every pack kept,
   the new prune record; then delete the old index files and records, the
   packs due, stale locks and leftovers of interrupted writes. A crash
   before the end leaves extra data but never loses any.

With ``prune_grace = 0`` a pack is deleted as soon as it is unused: only
for storage whose listings are immediately consistent.
"""

import collections
import time

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository import check
from backup_flows.repository import index as index_mod
from backup_flows.repository import locks
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import pending as pending_mod
from backup_flows.repository import retention
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

_PACKS_PER_INDEX_FILE = 1024
# A shared lock taken a moment before prune's exclusive one may be missing
# from the listing prune checks: before deleting packs, prune waits a
# quarter of the grace period (at most this many seconds) and lists them
# again.
_MAX_SETTLE = 30


def is_young(modified, cutoff):
    # An unknown time counts as new.
    return modified is None or modified >= cutoff


class _View:
    """What prune sees: the index with every readable pack, pack sizes,
    the prune records, the index files and packs too young to touch."""

    def __init__(self, repo, cutoff):
        self.state = pending_mod.load(repo.backend, repo.keys)
        self.index = repo.load_index()
        self._add_prune_files(repo)
        file_ages = {name: modified for name, _, modified
                     in repo.backend.list_modified(index_mod.PREFIX)}
        # Young index files of writers are kept (their packs may still be
        # missing from the listing); those a prune wrote are replaced.
        self.kept_files = {
            name for name in set(self.index.files) | set(self.index.errors)
            if is_young(file_ages.get(name), cutoff)
            and name not in self.state.index_files}
        self.protected = {pack_id for name in self.kept_files
                          for pack_id in self.index.files.get(name, ())}
        self.sizes = {}
        for name, size, modified in repo.backend.list_modified(
                pack_mod.PREFIX):
            pack_id = pack_mod.pack_id_from_name(name)
            self.sizes[pack_id] = size
            if is_young(modified, cutoff):
                self.protected.add(pack_id)
            if pack_id not in self.index.packs:
                self._add_trailer(repo, pack_id, name, size)
        for pack_id in list(self.index.packs):
            if pack_id in self.sizes:
                continue
            if repo.backend.exists(pack_mod.pack_name(pack_id)):
                # Written too recently to be listed.
                self.protected.add(pack_id)
            else:
                del self.index.packs[pack_id]
        self.unreadable = sorted(p for p in self.sizes
                                 if p not in self.index.packs)

    def _add_prune_files(self, repo):
        """Read the index files the last prune wrote that the listing does
        not show yet (else they would name packs deleted now)."""
        for name in sorted(self.state.index_files - set(self.index.files)):
            try:
                packs = index_mod.decode(repo.keys, repo.backend.get(name))
            except base.ObjectNotFound:
                continue
            except index_mod.IndexFormatError as exc:
                self.index.errors[name] = str(exc)
                continue
            self.index.files[name] = list(packs)
            for pack_id, entries in packs.items():
                self.index.add_pack(pack_id, entries)

    def _add_trailer(self, repo, pack_id, name, size):
        try:
            self.index.add_pack(pack_id, pack_mod.load_trailer(
                repo.backend, name, size, repo.keys))
        except base.ObjectNotFound:
            # Deleted but still listed (listings lag).
            del self.sizes[pack_id]
        except pack_mod.PackFormatError as exc:
            # Kept: nothing proves it is garbage.
            LOG.warning('Pack %s has an unreadable trailer (%s); it is '
                        'kept only if its index entries are used', name, exc)


def _classify(repo, view, referenced, now, cutoff):
    """Return ``(delete, pending, repack)``: packs to delete now, pending
    packs with their times, packs to repack (then pending)."""
    index = view.index
    damaged = getattr(index, 'damaged', {})
    holders = collections.defaultdict(set)
    for pack_id, entries in index.packs.items():
        for entry in entries:
            if (pack_id, entry[0]) not in damaged:
                holders[entry[0]].add(pack_id)
    going, delete, pending, repack = set(), [], {}, []
    for pack_id in sorted(index.packs):
        if pack_id in view.protected:
            continue
        entries = index.packs[pack_id]
        # Referenced chunks with no good copy in a pack that stays.
        needed = [e for e in entries if e[0] in referenced
                  and not holders[e[0]] - going - {pack_id}]
        if needed:
            used = sum(e[2] for e in needed)
            total = sum(e[2] for e in entries) or 1
            if (1 - used / total < repo.settings.repack_threshold
                    or any((pack_id, e[0]) in damaged for e in needed)):
                continue
        since = view.state.pending.get(pack_id, now)
        due = since <= cutoff
        if ((pack_id in view.state.pending or due)
                and pending_mod.is_rescued(repo.backend, pack_id)):
            LOG.info('Pack %s was rescued by a backup; kept', pack_id)
            continue
        going.add(pack_id)
        if needed:
            repack.append(pack_id)
        if due:
            delete.append(pack_id)
        else:
            pending[pack_id] = since
    return delete, pending, repack


def write_indexes(repo, packs):
    names = []
    items = list(packs.items())
    for start in range(0, len(items), _PACKS_PER_INDEX_FILE):
        name, data = index_mod.encode(
            repo.keys, dict(items[start:start + _PACKS_PER_INDEX_FILE]))
        repo.backend.put(name, data)
        names.append(name)
    return names


def _repack(repo, pack_id, entries, keep, builders):
    """Copy the blobs ``keep`` of a pack into the current new pack."""
    name = pack_mod.pack_name(pack_id)
    for chunk_id, offset, length, raw in entries:
        if chunk_id not in keep or chunk_id in builders['seen']:
            continue
        stored = repo.backend.get_range(name, offset, length)
        if len(stored) != length:
            raise exceptions.RepositoryCorrupted(
                url=repo.url, reason='pack %s is truncated' % pack_id)
        builders['seen'].add(chunk_id)
        builders['current'].add(chunk_id, stored, raw)
        if len(builders['current']) >= repo.settings.pack_size:
            _flush(repo, builders)


def _flush(repo, builders):
    if not builders['current']:
        return
    data, entries = builders['current'].finish(repo.keys)
    new_id = pack_mod.pack_id(data)
    repo.backend.put(pack_mod.pack_name(new_id), data)
    builders['written'][new_id] = entries
    builders['current'] = pack_mod.PackBuilder()


def _repack_all(repo, view, repack, going, referenced):
    """Copy every referenced chunk of ``repack`` packs that no staying
    pack holds; return ``{new pack id: entries}``."""
    damaged = getattr(view.index, 'damaged', {})
    builders = {'current': pack_mod.PackBuilder(), 'written': {},
                'seen': {e[0] for pack_id, entries in view.index.packs.items()
                         if pack_id not in going for e in entries
                         if (pack_id, e[0]) not in damaged}}
    for pack_id in repack:
        keep = {e[0] for e in view.index.packs[pack_id]
                if e[0] in referenced and (pack_id, e[0]) not in damaged}
        _repack(repo, pack_id, view.index.packs[pack_id], keep, builders)
    _flush(repo, builders)
    return builders['written']


def _settle_time(repo):
    """Seconds a prune holds its lock before it deletes packs."""
    return min(_MAX_SETTLE, repo.settings.prune_grace / 4.0)


def _writers_appeared(repo, lock, taken):
    """Whether a live shared lock is listed once the listings had time to
    show those taken just before ours (``taken``: monotonic time)."""
    time.sleep(max(0, _settle_time(repo) - (time.monotonic() - taken)))
    for name, other in locks.read_locks(repo.backend):
        if name != lock.name and not locks.is_stale(other):
            LOG.info('A %s lock appeared (%s): unused packs stay pending '
                     'until a later prune', other.get('kind'),
                     locks.LockConflict(other))
            return True
    return False


def _referenced(repo, documents, now):
    """Return ``(referenced, complete)``: the chunks and list objects of
    ``documents``, and whether every chunk list was read. That of a backup
    stored less than ``prune_grace`` ago may be in an index file not listed
    yet: then this prune deletes nothing (unused packs become pending).

    :raises RepositoryCorrupted: an older backup's list is unreadable.
    """
    referenced, errors = check.referenced_chunks(repo, documents)
    if not errors:
        return referenced, True
    cutoff = now - repo.settings.prune_grace
    stored = {name[len(manifest_mod.PREFIX):]: modified for name, _, modified
              in repo.backend.list_modified(manifest_mod.PREFIX)}
    old = ['%s disk %s (%s)' % (backup_id, disk, exc)
           for (backup_id, disk), exc in sorted(errors.items())
           if not is_young(stored.get(backup_id), cutoff)]
    if not old:
        LOG.warning('Chunk lists of backups just written are not listed yet '
                    '(%s); nothing is deleted until a later prune reads them',
                    ', '.join(sorted({key[0] for key in errors})))
    if old:
        raise exceptions.RepositoryCorrupted(
            url=repo.url, reason='unreadable chunk lists of backups %s; '
            'prune would delete the data they refer to; run a deep check, '
            'then repair or forget them' % ', '.join(old))
    return referenced, not errors


def _gc(repo, referenced, dry_run, lock, now, taken, complete=True):
    cutoff = now - repo.settings.prune_grace
    view = _View(repo, cutoff)
    delete, pending, repack = _classify(repo, view, referenced, now, cutoff)
    result = {
        'packs_deleted': len(delete),
        'packs_repacked': len(repack),
        'packs_pending': len(pending),
        'packs_too_young': len(view.protected),
        'bytes_freed': sum(view.sizes.get(p, 0) for p in delete),
        'unreadable_packs': view.unreadable,
        'grace': repo.settings.prune_grace,
    }
    if dry_run:
        return result
    going = set(delete) | set(pending)
    written = _repack_all(repo, view, repack, going, referenced)
    # A new pack has the name of any pack with the same bytes.
    delete = [p for p in delete if p not in written]
    result.update(packs_deleted=len(delete), bytes_freed=sum(
        view.sizes.get(p, 0) for p in delete))
    if delete and (not complete or _writers_appeared(repo, lock, taken)):
        pending.update((p, view.state.pending.get(p, now)) for p in delete)
        delete = []
        result.update(packs_deleted=0, bytes_freed=0,
                      packs_pending=len(pending))
    result['bytes_freed'] -= sum(sum(e[2] for e in entries)
                                 for entries in written.values())
    kept = {p: e for p, e in view.index.packs.items() if p not in delete}
    kept.update(written)
    new_files = write_indexes(repo, kept)
    # Nothing is deleted unless the lock is still ours.
    lock.check()
    pending_mod.save(repo.backend, repo.keys, view.state, pending, new_files,
                     now)
    old_files = set(view.index.files) | set(view.index.errors)
    for old in old_files - view.kept_files - set(new_files):
        repo.backend.delete(old)
    lock.check()
    for pack_id in delete:
        # A backup storing the same bytes again rescues the pack first.
        if pending_mod.is_rescued(repo.backend, pack_id):
            continue
        repo.backend.delete(pack_mod.pack_name(pack_id))
    for marker, _ in repo.backend.list(pending_mod.RESCUE_PREFIX):
        if marker[len(pending_mod.RESCUE_PREFIX):] not in pending:
            repo.backend.delete(marker)
    result['temporaries_deleted'] = repo.backend.purge_temporaries(
        older_than=cutoff)
    locks.purge(repo.backend, older_than=now - 2 * repo.settings.lock_ttl)
    repo.load_index()
    return result


def run(repo, policy=None, dry_run=False, server=None):
    """Forget backups by ``policy`` and collect garbage.

    :param policy: :class:`retention.Policy`; ``None`` only collects.
    :param server: apply the policy to this server's backups only.
    :returns: ``{"kept": {id: [rules]}, "forgotten": [ids],
        "packs_deleted": n, "packs_repacked": n, "packs_pending": n (found
        unused, deleted by a prune after the grace period),
        "packs_too_young": n, "bytes_freed": n, "grace": seconds,
        "dry_run": bool}``
    :raises RepositoryLocked: a backup is being written.
    :raises RepositoryCorrupted: a manifest or chunk list is unreadable
        (nothing is deleted).
    """
    policy = policy or retention.Policy()
    with repo.lock(locks.EXCLUSIVE) as lock:
        taken, now = time.monotonic(), time.time()
        documents, errors = repo.load_manifests()
        if errors:
            raise exceptions.RepositoryCorrupted(
                url=repo.url, reason='unreadable manifests %s; prune would '
                'delete the data they refer to; forget them first'
                % ', '.join(sorted(errors)))
        keep, forget = retention.select(
            ((d['id'], d['server'], manifest_mod.created_at(d))
             for d in documents
             if server is None or d['server'] == server), policy)
        repo.load_index()
        referenced, complete = _referenced(
            repo, [d for d in documents if d['id'] not in forget], now)
        if not dry_run:
            for backup_id in forget:
                repo.backend.delete(manifest_mod.object_name(backup_id))
                LOG.info('Pruned backup %s', backup_id)
        result = _gc(repo, referenced, dry_run, lock, now, taken, complete)
    result.update(kept=keep, forgotten=forget, dry_run=dry_run)
    LOG.info('Prune of %s: forgot %d backups, deleted %d packs, repacked '
             '%d, %d pending, %d younger than %d s, freed %d bytes',
             repo.url, len(forget), result['packs_deleted'],
             result['packs_repacked'], result['packs_pending'],
             result['packs_too_young'], result['grace'],
             result['bytes_freed'])
    return result

