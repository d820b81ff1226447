"""Packs that prune found unused and will delete later, and rescues.

Prune does not delete a pack the first time it finds it unused: a backup
committed a moment ago (its manifest not yet in the listing) or still
writing may reference chunks of it. Each prune records its state in a new
object ``prune/<generation>`` (12 digits, one more than the previous
prune's; a metadata envelope, aad b"prune", of JSON)::

    {"version": 1, "generation": 7, "written_at": 1764061282.5,
     "pending": {"<pack id>": <time it was first found unused>, ...},
     "index_files": ["index/<id>", ...]}

``pending`` packs stay indexed and readable. A later prune, ``prune_grace``
after that time, deletes one only if it is still unused by every manifest
it sees and no ``rescues/<pack id>`` object exists. A writer committing a
backup that references a chunk found only in pending packs first creates
their rescue objects (then reads ``locks/exclusive``, which a prune creates
before it reads them: one of the two sees the other). ``index_files`` are
the index files that prune wrote: the next prune reads them even when the
listing does not show them yet, and replaces them.

The newest generation is found without trusting the listing: from the
highest listed, generations are read directly, one after the other, until
one does not exist (a new object is found by a direct read, and each prune
creates the next number conditionally). Old generations are deleted.
"""

import json
import time

from oslo_log import log as logging

from backup_flows.repository import crypto
from backup_flows.repository import index as index_mod
from backup_flows.repository import pack as pack_mod
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

PREFIX = 'prune/'
RESCUE_PREFIX = 'rescues/'
AAD = b'prune'
VERSION = 1
# Generations kept behind the newest (a reader may start from one of them).
_KEEP = 8


class State:
    """The newest prune record: ``generation`` (0: none yet), ``pending``
    maps pack ids to the time they were first found unused,
    ``index_files`` the index files prunes wrote, ``old`` the listed
    generations to delete once a newer one is written."""

    def __init__(self):
        self.generation = 0
        self.pending = {}
        self.index_files = set()
        self.old = []


def _name(generation):
    return '%s%012d' % (PREFIX, generation)


def _read(backend, keys, generation):
    """The document of ``generation``, ``None`` if it does not exist."""
    try:
        data = backend.get(_name(generation))
    except base.ObjectNotFound:
        return None
    try:
        document = json.loads(keys.open_metadata(data, AAD))
        if document.get('version') != VERSION:
            raise ValueError('version %s' % document.get('version'))
        document['pending'], document['index_files']
    except (crypto.IntegrityError, ValueError, KeyError, TypeError) as exc:
        # Only knowledge is lost: its packs are found unused again, later.
        LOG.warning('Prune record %s is unreadable (%s)', _name(generation),
                    exc)
        return {'pending': {}, 'index_files': []}
    return document


def load(backend, keys):
    """The newest prune record (see the module docstring)."""
    state = State()
    listed = []
    for name, _ in backend.list(PREFIX):
        try:
            listed.append(int(name[len(PREFIX):]))
        except ValueError:
            continue
    generation = max(listed, default=0)
    document = _read(backend, keys, generation) if generation else None
    while True:
        newer = _read(backend, keys, generation + 1)
        if newer is None:
            break
        generation, document = generation + 1, newer
    if document is not None:
        state.generation = generation
        state.pending = dict(document['pending'])
        state.index_files = set(document['index_files'])
    state.old = [g for g in listed if g <= state.generation - _KEEP]
    return state


def save(backend, keys, state, pending, index_files, now=None):
    """Write the next generation after ``state``; delete old ones."""
    document = {'version': VERSION, 'generation': state.generation + 1,
                'written_at': time.time() if now is None else now,
                'pending': pending, 'index_files': sorted(index_files)}
    data = keys.seal_metadata(json.dumps(document, separators=(',', ':'),
                                         sort_keys=True).encode(), AAD)
    backend.create(_name(state.generation + 1), data)
    for generation in state.old:
        backend.delete(_name(generation))


def rescue_name(pack_id):
    return RESCUE_PREFIX + pack_id


def rescue(backend, pack_ids):
    """Create the rescue object of each pending pack in ``pack_ids``."""
    data = json.dumps({'rescued_at': time.time()}).encode()
    for pack_id in sorted(pack_ids):
        # Only its existence counts: a plain PUT (no conditional create).
        backend.put(rescue_name(pack_id), data)
        LOG.info('Rescued pack %s from a pending prune', pack_id)


def is_rescued(backend, pack_id):
    """Whether ``pack_id`` was rescued (a direct read, not a listing)."""
    return backend.exists(rescue_name(pack_id))


def _all_pending(index, chunk_id, pending):
    """The pack to rescue when every copy of ``chunk_id`` is in a pending
    pack, else ``None``."""
    locations = (index.locations(chunk_id) if hasattr(index, 'locations')
                 else [index.lookup(chunk_id)])
    if all(loc[0] in pending for loc in locations):
        return locations[0][0]
    return None


def confirm_references(backend, keys, chunk_ids, known):
    """Before a manifest naming ``chunk_ids`` is written: return the chunk
    ids that are gone, after rescuing the pending packs that hold the only
    copies of the others.

    :param known: the writer's index (read when its session began), for
        chunks of index files too new to be listed yet: their pack is read
        directly.
    """
    fresh = index_mod.Index.load(backend, keys)
    state = load(backend, keys)
    gone, packs, rescues = [], {}, set()
    for chunk_id in chunk_ids:
        if fresh.lookup(chunk_id) is not None:
            pack_id = _all_pending(fresh, chunk_id, state.pending)
            if pack_id is not None:
                rescues.add(pack_id)
            continue
        location = known.lookup(chunk_id)
        if location is None:
            gone.append(chunk_id)
        else:
            packs.setdefault(location[0], []).append(chunk_id)
    for pack_id, chunks in packs.items():
        if not backend.exists(pack_mod.pack_name(pack_id)):
            gone.extend(chunks)
    rescue(backend, rescues)
    return gone
