"""Snapshot sets, as recorded on the cloud resources themselves.

A snapshot set is a Glance image of a server's root disk and the Cinder
snapshots of its volumes, taken together. There is no database: every member
carries the set's identity and description in its image properties or
snapshot metadata (keys below), so any host with the same credentials can
list, show, roll back or expire the set. A member also carries the job id of
the flow that made it, which lets a resumed or reverted flow find what it
created.
"""

import datetime

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import exceptions

LOG = logging.getLogger(__name__)

KIND = 'backup_flows_kind'
SET_ID = 'backup_flows_set_id'
JOB_ID = 'backup_flows_job_id'
NAME = 'backup_flows_name'
SERVER_ID = 'backup_flows_server_id'
ROLE = 'backup_flows_role'
VOLUME_ID = 'backup_flows_volume_id'
DEVICE = 'backup_flows_device'
CONSISTENCY = 'backup_flows_consistency'
REQUESTED = 'backup_flows_requested_consistency'
CREATED_AT = 'backup_flows_created_at'
EXPIRES_AT = 'backup_flows_expires_at'
MEMBERS = 'backup_flows_members'
STATUS = 'backup_flows_status'

KIND_SNAPSHOT_SET = 'snapshot-set'

ROLE_ROOT_IMAGE = 'root-image'
ROLE_ROOT_VOLUME = 'root-volume'
ROLE_VOLUME = 'volume'

STATUS_CREATING = 'creating'
STATUS_AVAILABLE = 'available'
STATUS_DELETING = 'deleting'
# Derived: a member is missing or not usable.
STATUS_INCOMPLETE = 'incomplete'

_SET_FIELDS = (SET_ID, JOB_ID, NAME, SERVER_ID, CONSISTENCY, REQUESTED,
               CREATED_AT, EXPIRES_AT, MEMBERS)


def member_metadata(set_meta, role, volume_id=None, device=None,
                    status=STATUS_CREATING):
    """Metadata (all strings) recorded on one member of a set."""
    meta = {KIND: KIND_SNAPSHOT_SET, ROLE: role, STATUS: status}
    for key in _SET_FIELDS:
        value = set_meta.get(key.replace('backup_flows_', ''))
        meta[key] = '' if value is None else str(value)
    if volume_id:
        meta[VOLUME_ID] = volume_id
    if device:
        meta[DEVICE] = device
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
    for key in (KIND,) + _SET_FIELDS + (ROLE, STATUS, VOLUME_ID, DEVICE):
        value = getattr(image, key, None)
        if value is not None and key not in props:
            props[key] = value
    return props


def member_images(conn, set_id=None, job_id=None):
    """Images that are members of snapshot sets (optionally filtered)."""
    found = []
    for image in conn.image.images(**{KIND: KIND_SNAPSHOT_SET}):
        props = image_properties(image)
        if props.get(KIND) != KIND_SNAPSHOT_SET:
            continue
        if set_id and props.get(SET_ID) != set_id:
            continue
        if job_id and props.get(JOB_ID) != job_id:
            continue
        found.append((image, props))
    return found


def member_snapshots(conn, set_id=None, job_id=None, volume_id=None):
    """Cinder snapshots that are members of snapshot sets."""
    found = []
    for snap in conn.block_storage.snapshots(details=True):
        meta = dict(snap.metadata or {})
        if meta.get(KIND) != KIND_SNAPSHOT_SET:
            continue
        if set_id and meta.get(SET_ID) != set_id:
            continue
        if job_id and meta.get(JOB_ID) != job_id:
            continue
        if volume_id and meta.get(VOLUME_ID) != volume_id:
            continue
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
        if not self.meta or meta.get(STATUS) == STATUS_AVAILABLE:
            self.meta = meta

    def add_image(self, image, props):
        self._add(props)
        self.images.append({'id': image.id, 'role': props.get(ROLE),
                            'status': image.status,
                            'member_status': props.get(STATUS)})

    def add_snapshot(self, snap, meta):
        self._add(meta)
        self.snapshots.append({'id': snap.id, 'role': meta.get(ROLE),
                               'volume_id': meta.get(VOLUME_ID),
                               'device': meta.get(DEVICE),
                               'status': snap.status,
                               'member_status': meta.get(STATUS)})

    @property
    def members(self):
        return self.images + self.snapshots

    @property
    def expected_members(self):
        try:
            return int(self.meta.get(MEMBERS) or 0)
        except ValueError:
            return 0

    @property
    def status(self):
        statuses = {m['member_status'] for m in self.members}
        if STATUS_DELETING in statuses:
            return STATUS_DELETING
        if STATUS_CREATING in statuses:
            return STATUS_CREATING
        if (len(self.members) != self.expected_members or
                any(m['status'] != 'active' and m['status'] != 'available'
                    for m in self.members)):
            return STATUS_INCOMPLETE
        return STATUS_AVAILABLE

    @property
    def server_id(self):
        return self.meta.get(SERVER_ID)

    @property
    def expires_at(self):
        return parse_time(self.meta.get(EXPIRES_AT))

    def expired(self, now):
        return self.expires_at is not None and self.expires_at <= now

    @property
    def root_image_id(self):
        for image in self.images:
            if image['role'] == ROLE_ROOT_IMAGE:
                return image['id']
        return None

    def to_dict(self):
        return {
            'id': self.id,
            'name': self.meta.get(NAME) or None,
            'server_id': self.server_id,
            'status': self.status,
            'consistency': self.meta.get(CONSISTENCY) or None,
            'requested_consistency': self.meta.get(REQUESTED) or None,
            'created_at': self.meta.get(CREATED_AT) or None,
            'expires_at': self.meta.get(EXPIRES_AT) or None,
            'job_id': self.meta.get(JOB_ID) or None,
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
        sets.setdefault(props[SET_ID], SnapshotSet(props[SET_ID])).add_image(
            image, props)
    for snap, meta in member_snapshots(conn, set_id=set_id):
        sets.setdefault(meta[SET_ID], SnapshotSet(meta[SET_ID])).add_snapshot(
            snap, meta)
    result = [s for s in sets.values()
              if not server_id or s.server_id == server_id]
    return sorted(result, key=lambda s: s.meta.get(CREATED_AT) or '',
                  reverse=True)


def get_set(conn, set_id):
    """The snapshot set ``set_id``; NotFound when no member carries it."""
    sets = list_sets(conn, set_id=set_id)
    if not sets:
        raise exceptions.NotFound(kind='Snapshot set', ident=set_id)
    return sets[0]

