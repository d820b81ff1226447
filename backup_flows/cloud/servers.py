"""Facts about a Nova server that flows are planned from."""

from concurrent import futures

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import exceptions

LOG = logging.getLogger(__name__)

_TRUE = ('yes', 'true', '1', 'on')

# States a server can be captured in (no task running).
STABLE_STATUSES = ('ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED')
# The status of a volume that is attached and not changing.
ATTACHED_VOLUME_STATUS = 'in-use'
# Cinder API version of the volume re-image action (Zed): rolling back the
# root volume of a server needs it.
REIMAGE_MICROVERSION = '3.68'


def find_server(conn, name_or_id):
    """The server by id or unique name; ServerNotFound otherwise."""
    try:
        server = conn.compute.find_server(name_or_id, ignore_missing=True)
    except sdk_exc.DuplicateResource:
        raise exceptions.InvalidInput(
            reason='several servers are named %s; give its id' % name_or_id)
    if server is None:
        raise exceptions.ServerNotFound(server=name_or_id,
                                        cloud=conn.config.name)
    # found by id or in the detailed listing: every field is there
    return server


def _flag(props, name):
    return str((props or {}).get(name, '')).lower() in _TRUE


def _agent_facts(props):
    """``guest_agent``: the image declares a QEMU guest agent;
    ``require_quiesce``: Nova must fail a snapshot it could not freeze."""
    return {'guest_agent': _flag(props, 'hw_qemu_guest_agent'),
            'require_quiesce': _flag(props, 'os_require_quiesce')}


def _image_agent_facts(conn, image_id):
    try:
        image = conn.image.get_image(image_id)
    except sdk_exc.NotFoundException:
        return _agent_facts({})
    props = dict(image.properties or {})
    for name in ('hw_qemu_guest_agent', 'os_require_quiesce'):
        props.setdefault(name, getattr(image, name, None))
    return _agent_facts(props)


def _attachments(conn, server_id):
    return sorted(
        ({'volume_id': att.volume_id, 'device': att.device}
         for att in conn.compute.volume_attachments(server_id)),
        key=lambda att: att['device'] or '')


def _first_use(listing, **query):
    """One cheap request to a service (one page of one of its resources):
    it discovers the endpoint's version and has the service validate the
    token, costs every service's first request pays; the answer is not
    used. A failure is left to the real requests."""
    try:
        next(iter(listing(**query)), None)
    except Exception:
        LOG.debug('First request (%s) failed', listing.__name__,
                  exc_info=True)


def _volumes(conn, attachments):
    """{volume id: volume}; the volumes are looked up side by side."""
    if not attachments:
        return {}
    with futures.ThreadPoolExecutor(min(len(attachments), 8)) as pool:
        volumes = pool.map(conn.block_storage.get_volume,
                           [att['volume_id'] for att in attachments])
        return {volume.id: volume for volume in volumes}


def describe(conn, name_or_id):
    """Plain facts about a server: id, status, root disk, volumes, agent.

    ``root`` is ``{'kind': 'image', 'image_id'}`` or ``{'kind': 'volume',
    'volume_id', 'device'}``; ``volumes`` are the other attached volumes,
    ``[{'volume_id', 'device'}]`` sorted by device; ``volume_statuses``
    ``{volume id: status}`` of every attached volume (root included).

    After the server, its attachments, its image and its volumes are
    looked up side by side: each service checks a new token on first use,
    and planning waits for the slowest instead of the sum. Glance and
    Cinder are sent a first request while Nova is asked for the server
    (:func:`_first_use`), so their first-use costs overlap Nova's too.
    """
    with futures.ThreadPoolExecutor(2) as pool:
        pool.submit(_first_use, conn.image.images, limit=1)
        pool.submit(_first_use, conn.block_storage.volumes, details=False,
                    limit=1)
        server = find_server(conn, name_or_id)
        image_id = (server.image or {}).get('id')
        agent = (pool.submit(_image_agent_facts, conn, image_id)
                 if image_id else None)
        attachments = _attachments(conn, server.id)
        volumes = _volumes(conn, attachments)
        agent_facts = agent.result() if agent else None
    facts = {'id': server.id, 'name': server.name, 'status': server.status,
             'task_state': server.task_state,
             'flavor': dict(server.flavor or {}),
             'availability_zone': server.availability_zone,
             'volume_statuses': {vid: volume.status
                                 for vid, volume in volumes.items()}}
    if image_id:
        facts['root'] = {'kind': 'image', 'image_id': image_id}
        facts['volumes'] = attachments
        facts.update(agent_facts)
        return facts
    root_device = getattr(server, 'root_device_name', None)
    root = next((att for att in attachments
                 if root_device and att['device'] == root_device),
                attachments[0] if attachments else None)
    if root is None:
        raise exceptions.InvalidServerState(
            server=server.id, state='no root disk', action='capture',
            expected='an image or a boot volume')
    facts['root'] = dict(root, kind='volume')
    facts['volumes'] = [att for att in attachments if att is not root]
    facts.update(_agent_facts(
        volumes[root['volume_id']].volume_image_metadata))
    return facts


def check_stable(facts, action):
    """InvalidServerState unless the described server is stable."""
    if facts['status'] not in STABLE_STATUSES or facts['task_state']:
        raise exceptions.InvalidServerState(
            server=facts['id'],
            state='%s/%s' % (facts['status'], facts['task_state']),
            action=action, expected=', '.join(STABLE_STATUSES))
    changing = {vid: status for vid, status
                in facts.get('volume_statuses', {}).items()
                if status != ATTACHED_VOLUME_STATUS}
    if changing:
        raise exceptions.InvalidServerState(
            server=facts['id'],
            state='volume %s' % ', '.join(
                '%s %s' % item for item in sorted(changing.items())),
            action=action, expected='every volume %s'
                                    % ATTACHED_VOLUME_STATUS)
