"""The definition of a server as kept in a backup manifest.

A backup holds, besides the disks' bytes, everything needed to build the
server again elsewhere. :func:`capture` reads it from the cloud as plain
JSON data; the restore flow maps it onto a target cloud. Shape (version 1)::

    {"version": 1,
     "id": "<server id>", "name": "web-1", "status": "ACTIVE",
     "flavor": {"id": "...", "name": "m1.small", "vcpus": 1, "ram": 1024,
                "disk": 2, "ephemeral": 0, "swap": 0, "extra_specs": {}},
     "image": {"id": "...", "name": "cirros"} or null,
     "boot_from_volume": false,
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
"""

import os

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

VERSION = 1

ROLE_ROOT_IMAGE = 'root-image'
ROLE_ROOT_VOLUME = 'root-volume'
ROLE_VOLUME = 'volume'


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


def _image(conn, server):
    image_id = (server.image or {}).get('id')
    if not image_id:
        return None
    try:
        image = conn.image.get_image(image_id)
        return {'id': image_id, 'name': image.name}
    except sdk_exc.NotFoundException:
        return {'id': image_id, 'name': None}


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

    :param facts: :func:`backup_flows.servers.describe` of the server.
    """
    server = conn.compute.get_server(facts['id'])
    root = facts['root']
    disks = []
    if root['kind'] == 'image':
        device = getattr(server, 'root_device_name', None) or '/dev/vda'
        disks.append({'disk': disk_name(device, 'vda'),
                      'role': ROLE_ROOT_IMAGE, 'device': device,
                      'boot_index': 0})
    else:
        disks.append(_volume_disk(conn, root, ROLE_ROOT_VOLUME, 0))
    for attachment in facts['volumes']:
        disks.append(_volume_disk(conn, attachment, ROLE_VOLUME, None))
    return {
        'version': VERSION,
        'id': server.id, 'name': server.name, 'status': server.status,
        'flavor': _flavor(server),
        'image': _image(conn, server),
        'boot_from_volume': root['kind'] == 'volume',
        'availability_zone': server.availability_zone,
        'key_name': server.key_name,
        'security_groups': _security_groups(server),
        'metadata': dict(server.metadata or {}),
        'tags': sorted(server.tags or []),
        'networks': _networks(conn, server),
        'disks': disks,
    }
