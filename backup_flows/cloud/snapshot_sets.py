"""Snapshot sets, as recorded on the cloud resources themselves.

A snapshot set is a Glance image of a server's root disk and the Cinder
snapshots of its volumes, taken together. There is no database: every member
carries the set's identity and description in its image properties or
snapshot metadata (keys in backup_flows.tags), so any host with the same
credentials can list, show, roll back or expire the set. A member also
carries the job id of the flow that made it, which lets a resumed or
reverted flow find what it created.
"""

import datetime

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows import tags

LOG = logging.getLogger(__name__)

# Derived: a member is missing or not usable.
STATUS_INCOMPLETE = 'incomplete'

_SET_FIELDS = (tags.SET_ID, tags.JOB_ID, tags.NAME, tags.SERVER_ID,
               tags.CONSISTENCY, tags.REQUESTED, tags.CREATED_AT,
               tags.EXPIRES_AT, tags.MEMBERS)


def member_metadata(set_meta, role, volume_id=None, device=None,
                    status=tags.STATUS_CREATING):
    """Metadata (all strings) recorded on one member of a set."""
    meta = {tags.KIND: tags.KIND_SNAPSHOT_SET, tags.ROLE: role,
            tags.STATUS: status}
    for key in _SET_FIELDS:
        value = set_meta.get(key.replace(tags.PREFIX, ''))
        meta[key] = '' if value is None else str(value)
    if volume_id:
        meta[tags.VOLUME_ID] = volume_id
    if device:
        meta[tags.DEVICE] = device
    return meta


def set_image_properties(conn, image_id, **props):
    """Add or replace image properties, leaving every other one alone.

    openstacksdk's ``update_image`` diffs against the properties it knows
    and removes the rest (including read-only ones such as ``stores``,
    which Glance refuses with 409), so a JSON patch of ``add`` operations
    (which replace existing values) is sent directly.
    """
    patch = [{'op': 'add', 'path': '/' + key, 'value': value}
             for key, value in sorted(props.items())]
    response = conn.image.patch(
        '/images/%s' % image_id, json=patch,
        headers={'Content-Type':
                 'application/openstack-images-v2.1-json-patch'})
    sdk_exc.raise_from_response(response)


def image_properties(image):
    """All properties of an openstacksdk image, extra ones included."""
    props = dict(getattr(image, 'properties', None) or {})
    for key in ((tags.KIND,) + _SET_FIELDS +
                (tags.ROLE, tags.STATUS, tags.VOLUME_ID, tags.DEVICE)):
        value = getattr(image, key, None)
        if value is not None and key not in props:
            props[key] = value
    return props


def _member_of(meta, set_id, job_id, volume_id=None):
    """Whether ``meta`` is a set member's, of the set, job and volume asked
    for (each optional)."""
    return (meta.get(tags.KIND) == tags.KIND_SNAPSHOT_SET and
            all(not wanted or meta.get(key) == wanted
                for key, wanted in ((tags.SET_ID, set_id),
                                    (tags.JOB_ID, job_id),
                                    (tags.VOLUME_ID, volume_id))))


def member_images(conn, set_id=None, job_id=None):
    """Images that are members of snapshot sets (optionally filtered)."""
    found = []
    for image in conn.image.images(**{tags.KIND: tags.KIND_SNAPSHOT_SET}):
        props = image_properties(image)
        if _member_of(props, set_id, job_id):
            found.append((image, props))
    return found


def member_snapshots(conn, set_id=None, job_id=None, volume_id=None):
    """Cinder snapshots that are members of snapshot sets."""
    found = []
    for snap in conn.block_storage.snapshots(details=True):
        meta = dict(snap.metadata or {})
        if _member_of(meta, set_id, job_id, volume_id):
            found.append((snap, meta))
    return found


def parse_time(value):
    if not value:
        return None
    return datetime.datetime.fromisoformat(value)


class SnapshotSet:
    """A snapshot set rebuilt from its members' metadata."""

    def __init__(self, set_id):
        self.id = set_id
        self.meta = {}
        self.images = []
        self.snapshots = []

    def _add(self, meta):
        # Every member carries the set's fields; prefer a finished member's.
        if not self.meta or meta.get(tags.STATUS) == tags.STATUS_AVAILABLE:
            self.meta = meta

    def add_image(self, image, props):
        self._add(props)
        self.images.append({'id': image.id, 'role': props.get(tags.ROLE),
                            'status': image.status,
                            'member_status': props.get(tags.STATUS)})

    def add_snapshot(self, snap, meta):
        self._add(meta)
        self.snapshots.append({'id': snap.id, 'role': meta.get(tags.ROLE),
                               'volume_id': meta.get(tags.VOLUME_ID),
                               'device': meta.get(tags.DEVICE),
                               'status': snap.status,
                               'member_status': meta.get(tags.STATUS)})

    @property
    def members(self):
        return self.images + self.snapshots

    @property
    def expected_members(self):
        try:
            return int(self.meta.get(tags.MEMBERS) or 0)
        except ValueError:
            return 0

    @property
    def status(self):
        statuses = {m['member_status'] for m in self.members}
        if tags.STATUS_DELETING in statuses:
            return tags.STATUS_DELETING
        if tags.STATUS_CREATING in statuses:
            return tags.STATUS_CREATING
        if (len(self.members) != self.expected_members or
                any(m['status'] != 'active' and m['status'] != 'available'
                    for m in self.members)):
            return STATUS_INCOMPLETE
        return tags.STATUS_AVAILABLE

    @property
    def server_id(self):
        return self.meta.get(tags.SERVER_ID)

    @property
    def expires_at(self):
        return parse_time(self.meta.get(tags.EXPIRES_AT))

    def expired(self, now):
        return self.expires_at is not None and self.expires_at <= now

    @property
    def root_image_id(self):
        for image in self.images:
            if image['role'] == tags.ROLE_ROOT_IMAGE:
                return image['id']
        return None

    def to_dict(self):
        return {
            'id': self.id,
            'name': self.meta.get(tags.NAME) or None,
            'server_id': self.server_id,
            'status': self.status,
            'consistency': self.meta.get(tags.CONSISTENCY) or None,
            'requested_consistency': self.meta.get(tags.REQUESTED) or None,
            'created_at': self.meta.get(tags.CREATED_AT) or None,
            'expires_at': self.meta.get(tags.EXPIRES_AT) or None,
            'job_id': self.meta.get(tags.JOB_ID) or None,
            'image_id': self.root_image_id,
            'image_ids': [m['id'] for m in self.images],
            'volume_snapshots': [
                {k: m[k] for k in ('id', 'volume_id', 'device', 'role',
                                   'status')}
                for m in self.snapshots],
            'members_expected': self.expected_members,
        }


def list_sets(conn, server_id=None, set_id=None):
    """Every snapshot set visible with ``conn``, newest first."""
    sets = {}
    for image, props in member_images(conn, set_id=set_id):
        ident = props[tags.SET_ID]
        sets.setdefault(ident, SnapshotSet(ident)).add_image(image, props)
    for snap, meta in member_snapshots(conn, set_id=set_id):
        ident = meta[tags.SET_ID]
        sets.setdefault(ident, SnapshotSet(ident)).add_snapshot(snap,
                                                                    meta)
    result = [s for s in sets.values()
              if not server_id or s.server_id == server_id]
    return sorted(result, key=lambda s: s.meta.get(tags.CREATED_AT) or '',
                  reverse=True)


def get_set(conn, set_id):
    """The snapshot set ``set_id``; NotFound when no member carries it."""
    sets = list_sets(conn, set_id=set_id)
    if not sets:
        raise exceptions.NotFound(kind='Snapshot set', ident=set_id)
    return sets[0]

