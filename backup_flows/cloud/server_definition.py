"""The definition of a server as kept in a backup manifest.

A backup holds, besides the disks' bytes, everything needed to build the
server again elsewhere. :func:`capture` reads it from the cloud as plain
JSON data; the restore flow maps it onto a target cloud. Shape (version 1)::

    {"version": 1,
     "id": "<server id>", "name": "web-1", "status": "ACTIVE",
     "flavor": {"id": "...", "name": "m1.small", "vcpus": 1, "ram": 1024,
                "disk": 2, "ephemeral": 0, "swap": 0, "extra_specs": {}},
     "image": {"id": "...", "name": "cirros",
               "properties": {"hw_disk_bus": "scsi", "os_distro": "cirros",
                              "architecture": "x86_64", ...},
               "min_disk": 1, "min_ram": 256} or null,
     "boot_from_volume": false,
     "skipped_disks": [{"kind": "ephemeral", "size_gb": 1},
                       {"kind": "swap", "size_mb": 512}],
     "availability_zone": "nova",
     "key_name": "ops" or null,
     "security_groups": ["default"],
     "metadata": {...}, "tags": [...],
     "networks": [{"network_id": "...", "network_name": "net1",
                   "port_id": "...", "mac_address": "...",
                   "fixed_ips": [{"subnet_id": "...",
                                  "ip_address": "10.0.0.5"}]}],
     "disks": [{"disk": "vda", "role": "root-image", "device": "/dev/vda",
                "boot_index": 0},
               {"disk": "vdb", "role": "volume", "device": "/dev/vdb",
                "boot_index": null, "volume_id": "...",
                "volume_name": "...", "volume_type": "...", "size_gb": 1,
                "bootable": false, "description": "..."}]}

``disks[].disk`` is the name of the disk in the manifest. ``role`` is
``root-image`` (the root disk of an image-backed server, exported through
its snapshot image), ``root-volume`` (the boot volume of a boot-from-volume
server) or ``volume`` (an attached data volume).

``image`` is the image the root disk was created from: the server's image,
or for a boot-from-volume server the image named in the boot volume's image
metadata (null when there is none). ``properties`` are its boot-relevant
properties (:func:`boot_properties`), kept so that a restore needs neither
the source image nor its cloud. ``image`` lacks ``properties``,
``min_disk`` and ``min_ram`` when the image was gone at backup time, and in
backups written before they were recorded (which also lack
``skipped_disks``): see :func:`recorded_boot_image`. ``skipped_disks`` are
the flavor's local disks the backup does not hold
(:func:`check_local_disks`).
"""

import os

from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import tags

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

VERSION = 1

LOCAL_DISKS_REFUSE = 'refuse'

# Image properties telling Nova how to boot, run and place the guest
# (nova.objects.image_meta.ImageMetaProps): hw_*, os_*, img_*, the legacy
# names Nova still maps onto them, and trait:* (scheduling).
_BOOT_PROPERTY_PREFIXES = ('hw_', 'img_', 'os_', 'trait:')
_LEGACY_BOOT_PROPERTIES = ('architecture', 'auto_disk_config',
                           'hypervisor_type', 'hypervisor_version_requires',
                           'ipxe_boot', 'vm_mode', 'vmware_adaptertype',
                           'vmware_disktype', 'vmware_ostype')
# Not kept: Glance's own (hashes, hidden), signatures (of other bytes), and
# what names resources of the source cloud (the snapshots and devices of a
# boot-from-volume snapshot's mappings, the owner).
_NOT_BOOT_PREFIXES = ('os_hash_', 'os_hidden', 'os_glance', 'img_signature',
                      'img_block_device_mapping', 'img_bdm_v2',
                      'img_mappings', 'img_root_device_name', 'img_owner_id')


def disk_name(device, fallback):
    """Manifest name of a disk: the device's base name (``vdb``)."""
    return os.path.basename(device) if device else fallback


def _flavor(server):
    flavor = dict(server.flavor or {})
    return {'id': flavor.get('id'),
            'name': flavor.get('original_name') or flavor.get('name'),
            'vcpus': flavor.get('vcpus'), 'ram': flavor.get('ram'),
            'disk': flavor.get('disk'), 'ephemeral': flavor.get('ephemeral'),
            'swap': flavor.get('swap'),
            'extra_specs': dict(flavor.get('extra_specs') or {})}


def boot_properties(props):
    """The boot-relevant entries of ``props`` (an image as Glance's JSON
    shows it, or a volume's image metadata), values as strings."""
    return {key: str(value) for key, value in (props or {}).items()
            if (key.startswith(_BOOT_PROPERTY_PREFIXES) or
                key in _LEGACY_BOOT_PROPERTIES)
            and not key.startswith(_NOT_BOOT_PREFIXES)
            and value is not None}


def _int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def boot_image(image_id, name, props):
    """The definition's ``image`` entry of an image whose fields and
    properties are ``props`` (Glance's JSON, or volume image metadata)."""
    props = props or {}
    return {'id': image_id, 'name': name,
            'properties': boot_properties(props),
            'min_disk': _int(props.get('min_disk')),
            'min_ram': _int(props.get('min_ram'))}


def get_image_document(conn, image_id):
    """Glance's own JSON of an image, or None if there is no such image.

    Not openstacksdk's Image: it renames some properties (hw_boot_menu...).
    """
    response = conn.image.get('/images/%s' % image_id)
    if response.status_code == 404:
        return None
    sdk_exc.raise_from_response(response)
    return response.json()


def _image(conn, server):
    image_id = (server.image or {}).get('id')
    if not image_id:
        return None
    document = get_image_document(conn, image_id)
    if document is None:
        LOG.warning('Image %s of server %s is gone: the backup records no '
                    'boot properties (hw_*, os_*...) of it', image_id,
                    server.id)
        return {'id': image_id, 'name': None}
    return boot_image(image_id, document.get('name'), document)


def _volume_image(volume_disk):
    meta = volume_disk.get('image_metadata') or {}
    if not meta:
        return None
    return boot_image(meta.get('image_id'), meta.get('image_name'), meta)


def recorded_boot_image(definition):
    """The ``image`` entry with the boot properties ``definition`` records,
    or None if it records none (an image-backed server's backup written
    before they were, or whose image was gone at backup time).

    The boot volume's whole image metadata has been recorded from the
    start: older boot-from-volume backups have their properties there.
    """
    image = definition.get('image') or {}
    if 'properties' in image:
        return image
    root = next((disk for disk in definition.get('disks') or []
                 if disk['role'] == tags.ROLE_ROOT_VOLUME), None)
    if root is not None:
        return _volume_image(root) or boot_image(None, None, {})
    return None


def local_disks(flavor):
    """The flavor's disks besides the root disk: Nova keeps them on the
    compute host, out of reach of the APIs backups copy disks through."""
    disks = []
    if _int(flavor.get('ephemeral')) > 0:
        disks.append({'kind': 'ephemeral',
                      'size_gb': _int(flavor.get('ephemeral'))})
    # swap is in MiB ("" instead of 0 before compute API 2.75)
    if _int(flavor.get('swap')) > 0:
        disks.append({'kind': 'swap', 'size_mb': _int(flavor.get('swap'))})
    return disks


def _local_disks_policy():
    try:
        return CONF.backup.local_disks
    except cfg.ConfigFileValueError as exc:
        # one line without oslo.config's location details
        raise exceptions.InvalidInput(
            reason='[backup] local_disks: %s' %
                   str(exc).rpartition(' is not valid: ')[2])


def check_local_disks(facts, policy=None):
    """Refuse a backup of the described server if its flavor gives it an
    ephemeral disk and ``policy`` (default ``[backup] local_disks``) is
    ``refuse``; otherwise log what the backup will not hold (ephemeral
    disk, swap)."""
    policy = policy or _local_disks_policy()
    disks = local_disks(facts['flavor'])
    ephemeral = [d for d in disks if d['kind'] == 'ephemeral']
    if ephemeral and policy == LOCAL_DISKS_REFUSE:
        raise exceptions.InvalidInput(
            reason='server %s has a %d GiB ephemeral disk (flavor %s), '
                   'which backups cannot copy; set [backup] local_disks = '
                   'skip to back up its other disks without it' % (
                       facts['id'], ephemeral[0]['size_gb'],
                       facts['flavor'].get('original_name') or
                       facts['flavor'].get('name')))
    if ephemeral:
        LOG.warning('Server %s: its %d GiB ephemeral disk is not backed up '
                    '([backup] local_disks = skip); a restore gets an empty '
                    'one from the flavor', facts['id'],
                    ephemeral[0]['size_gb'])
    for disk in disks:
        if disk['kind'] == 'swap':
            LOG.info('Server %s: its %d MiB swap disk is not backed up (a '
                     'restore gets a new one from the flavor)', facts['id'],
                     disk['size_mb'])
    return disks


def _networks(conn, server):
    networks = []
    names = {}
    for port in conn.network.ports(device_id=server.id):
        if port.network_id not in names:
            net = conn.network.find_network(port.network_id,
                                            ignore_missing=True)
            names[port.network_id] = net.name if net else None
        networks.append({
            'network_id': port.network_id,
            'network_name': names[port.network_id],
            'port_id': port.id, 'mac_address': port.mac_address,
            'fixed_ips': [{'subnet_id': ip.get('subnet_id'),
                           'ip_address': ip.get('ip_address')}
                          for ip in port.fixed_ips or []]})
    return sorted(networks, key=lambda n: n['port_id'])


def _security_groups(server):
    return sorted({sg.get('name') for sg in server.security_groups or []
                   if sg.get('name')})


def _volume_disk(conn, attachment, role, boot_index):
    volume = conn.block_storage.get_volume(attachment['volume_id'])
    return {'disk': disk_name(attachment['device'], volume.id),
            'role': role, 'device': attachment['device'],
            'boot_index': boot_index, 'volume_id': volume.id,
            'volume_name': volume.name, 'volume_type': volume.volume_type,
            'size_gb': volume.size, 'bootable': bool(volume.is_bootable),
            'description': volume.description,
            'image_metadata': dict(volume.volume_image_metadata or {})}


def capture(conn, facts):
    """The definition of the server described by ``facts``.

    :param facts: :func:`backup_flows.cloud.servers.describe` of the server.
    """
    server = conn.compute.get_server(facts['id'])
    root = facts['root']
    disks = []
    if root['kind'] == 'image':
        device = getattr(server, 'root_device_name', None) or '/dev/vda'
        disks.append({'disk': disk_name(device, 'vda'),
                      'role': tags.ROLE_ROOT_IMAGE, 'device': device,
                      'boot_index': 0})
    else:
        disks.append(_volume_disk(conn, root, tags.ROLE_ROOT_VOLUME, 0))
    for attachment in facts['volumes']:
        disks.append(_volume_disk(conn, attachment, tags.ROLE_VOLUME, None))
    return {
        'version': VERSION,
        'id': server.id, 'name': server.name, 'status': server.status,
        'flavor': _flavor(server),
        'image': (_image(conn, server) if root['kind'] == 'image'
                  else _volume_image(disks[0])),
        'boot_from_volume': root['kind'] == 'volume',
        'skipped_disks': local_disks(dict(server.flavor or {})),
        'availability_zone': server.availability_zone,
        'key_name': server.key_name,
        'security_groups': _security_groups(server),
        'metadata': dict(server.metadata or {}),
        'tags': sorted(server.tags or []),
        'networks': _networks(conn, server),
        'disks': disks,
    }
