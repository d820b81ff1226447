"""Prune: forget backups by retention policy, then collect garbage.

Runs under the exclusive lock, so no backup is being written. Steps, in a
crash-safe order:

1. Read every manifest (refuse to continue if one is unreadable: its chunks
   would be collected) and the index; read the trailers of packs the index
   does not cover (data of interrupted backups, or of a damaged index).
2. Delete the manifests the policy forgets.
3. Classify packs: no referenced chunk -> delete; at least
   ``repack_threshold`` of the bytes unreferenced -> copy the referenced
   blobs (as stored, still sealed) into new packs and delete the old one.
4. Write new index files covering exactly the live packs, then delete the
   old index files, then the dead packs and leftovers of interrupted
   writes. A crash before the end leaves extra data but never loses any.
"""

from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository import check
from backup_flows.repository import index as index_mod
from backup_flows.repository import locks
from backup_flows.repository import manifest as manifest_mod
from backup_flows.repository import pack as pack_mod
from backup_flows.repository import retention

LOG = logging.getLogger(__name__)

_PACKS_PER_INDEX_FILE = 1024


def _full_index(repo):
    """Index of every pack: index files plus trailers of unindexed packs."""
    index = repo.load_index()
    pack_sizes = {}
    for name, size in repo.backend.list(pack_mod.PREFIX):
        pack_id = pack_mod.pack_id_from_name(name)
        pack_sizes[pack_id] = size
        if pack_id in index.packs:
            continue
        try:
            index.add_pack(pack_id, pack_mod.load_trailer(
                repo.backend, name, size, repo.keys))
        except pack_mod.PackFormatError as exc:
            LOG.warning('Pack %s has an unreadable trailer (%s); it is '
                        'kept only if its index entries are used', name, exc)
    # Index entries of packs that no longer exist are dropped.
    for pack_id in list(index.packs):
        if pack_id not in pack_sizes:
            del index.packs[pack_id]
    return index, pack_sizes


def _write_indexes(repo, packs):
    names = []
    items = list(packs.items())
    for start in range(0, len(items), _PACKS_PER_INDEX_FILE):
        name, data = index_mod.encode(
            repo.keys, dict(items[start:start + _PACKS_PER_INDEX_FILE]))
        repo.backend.put(name, data)
        names.append(name)
    return names


def _repack(repo, pack_id, entries, referenced, builders):
    """Copy the referenced blobs of a pack into the current new pack."""
    name = pack_mod.pack_name(pack_id)
    for chunk_id, offset, length, raw in entries:
        if chunk_id not in referenced or chunk_id in builders['seen']:
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


def _gc(repo, documents, dry_run):
    index, pack_sizes = _full_index(repo)
    referenced = check.referenced_chunks(documents)
    live, dead, to_repack = {}, [], []
    for pack_id, entries in index.packs.items():
        used = sum(e[2] for e in entries if e[0] in referenced)
        total = sum(e[2] for e in entries) or 1
        if used == 0:
            dead.append(pack_id)
        elif 1 - used / total >= repo.settings.repack_threshold:
            to_repack.append(pack_id)
        else:
            live[pack_id] = entries
    # Packs without index entries and without a readable trailer are
    # kept: nothing proves they are garbage.
    unreadable = sorted(p for p in pack_sizes if p not in index.packs)
    result = {
        'packs_deleted': len(dead),
        'packs_repacked': len(to_repack),
        'bytes_freed': sum(pack_sizes[p] for p in dead + to_repack),
        'unreadable_packs': unreadable,
    }
    if dry_run:
        return result
    builders = {'current': pack_mod.PackBuilder(), 'written': {},
                'seen': {e[0] for entries in live.values() for e in entries}}
    for pack_id in to_repack:
        _repack(repo, pack_id, index.packs[pack_id], referenced, builders)
    _flush(repo, builders)
    live.update(builders['written'])
    result['bytes_freed'] -= sum(
        sum(e[2] for e in entries) for entries in builders['written'].values())
    old_files = set(index.files) | set(index.errors)
    new_files = _write_indexes(repo, live)
    for name in old_files - set(new_files):
        repo.backend.delete(name)
    for pack_id in dead + to_repack:
        repo.backend.delete(pack_mod.pack_name(pack_id))
    result['temporaries_deleted'] = repo.backend.purge_temporaries()
    repo.load_index()
    return result


def run(repo, policy=None, dry_run=False, server=None):
    """Forget backups by ``policy`` and collect garbage.

    :param policy: :class:`retention.Policy`; ``None`` only collects.
    :param server: apply the policy to this server's backups only.
    :returns: ``{"kept": {id: [rules]}, "forgotten": [ids],
        "packs_deleted": n, "packs_repacked": n, "bytes_freed": n,
        "dry_run": bool}``
    :raises RepositoryLocked: a backup is being written.
    :raises RepositoryCorrupted: a manifest is unreadable.
    """
    policy = policy or retention.Policy()
    with repo.lock(locks.EXCLUSIVE):
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
        if not dry_run:
            for backup_id in forget:
                repo.backend.delete(manifest_mod.object_name(backup_id))
                LOG.info('Pruned backup %s', backup_id)
        remaining = [d for d in documents if d['id'] not in forget]
        result = _gc(repo, remaining, dry_run)
    result.update(kept=keep, forgotten=forget, dry_run=dry_run)
    LOG.info('Prune of %s: forgot %d backups, deleted %d packs, repacked '
             '%d, freed %d bytes', repo.url, len(forget),
             result['packs_deleted'], result['packs_repacked'],
             result['bytes_freed'])
    return result


def rebuild_index(repo):
    """Replace every index file by one built from the pack trailers.

    :returns: ``{"packs": n, "chunks": n, "unreadable_packs": {name:
        reason}}``
    """
    with repo.lock(locks.EXCLUSIVE):
        old = [name for name, _ in repo.backend.list(index_mod.PREFIX)]
        index, unreadable = index_mod.rebuild(repo.backend, repo.keys)
        new_files = _write_indexes(repo, index.packs)
        for name in set(old) - set(new_files):
            repo.backend.delete(name)
        repo.load_index()
    return {'packs': len(index.packs), 'chunks': len(index.chunks),
            'unreadable_packs': unreadable}
