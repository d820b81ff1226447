"""A small stateful cloud behind fake_sdk's autospecced proxies.

Flow tests run real flows against it: every proxy call a task makes is
checked against openstacksdk's signature (the proxies are autospecced),
then acts on plain dicts of servers, images, volumes and snapshots, and
answers with openstacksdk resources built afresh, as an API would. Every
change is final at once (no resource passes through ``creating``), so no
wait polls twice. Disks hold bytes: a snapshot, a volume made from it, an
image uploaded from a volume and a download carry them, and Glance's
``os_hash_value`` is their SHA-512, so the hash checks of the backup and
restore tasks run for real.
"""

import hashlib
import io
import itertools

from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import snapshot as sdk_snapshot
from openstack.block_storage.v3 import volume as sdk_volume
from openstack.compute.v2 import server as sdk_server
from openstack.image.v2 import image as sdk_image
import requests

from tests.unit import fake_sdk


def _ident(resource):
    return getattr(resource, 'id', resource)


class FakeCloud:
    """State of one fake cloud; ``conn`` is its fake_sdk connection."""

    def __init__(self, conn=None):
        self.conn = conn or fake_sdk.connection()
        self.servers, self.images = {}, {}
        self.volumes, self.snapshots = {}, {}
        self.data = {}
        self._ids = itertools.count(1)
        compute, image = self.conn.compute, self.conn.image
        storage = self.conn.block_storage
        for proxy, names in (
                (compute, 'get_server servers pause_server unpause_server '
                          'stop_server start_server rebuild_server '
                          'create_server_image create_server delete_server '
                          'create_volume_attachment '
                          'delete_volume_attachment'),
                (image, 'images get_image delete_image create_image put '
                        'patch download_image'),
                (storage, 'snapshots get_snapshot create_snapshot '
                          'delete_snapshot set_snapshot_metadata volumes '
                          'get_volume create_volume delete_volume '
                          'upload_volume_to_image revert_volume_to_snapshot '
                          'post delete_volume_image_metadata '
                          'set_volume_image_metadata '
                          'set_volume_bootable_status')):
            for name in names.split():
                getattr(proxy, name).side_effect = getattr(self, '_' + name)

    def new_id(self, kind):
        return '%s-%d' % (kind, next(self._ids))

    # -- what a test sets up ------------------------------------------------

    def add_server(self, server_id, status='ACTIVE', root=b'', **attrs):
        self.servers[server_id] = dict(
            attrs, id=server_id, name=attrs.get('name', server_id),
            status=status, task_state=None, metadata=attrs.get('metadata',
                                                               {}))
        self.data[server_id] = root
        return server_id

    def add_volume(self, volume_id, data=b'', server_id=None, **attrs):
        attached = server_id is not None
        self.volumes[volume_id] = dict(
            attrs, id=volume_id, status='in-use' if attached else 'available',
            size=attrs.get('size', 1), metadata=attrs.get('metadata', {}),
            attachments=[{'server_id': server_id}] if attached else [])
        self.data[volume_id] = data
        return volume_id

    def add_image(self, image_id=None, data=None, **attrs):
        image_id = image_id or self.new_id('image')
        self.images[image_id] = dict(attrs, id=image_id, status='queued')
        if data is not None:
            self._store(image_id, data)
        return image_id

    def add_snapshot(self, snapshot_id, volume_id, **attrs):
        self.snapshots[snapshot_id] = dict(
            attrs, id=snapshot_id, volume_id=volume_id, status='available',
            metadata=dict(attrs.get('metadata', {})))
        self.data[snapshot_id] = self.data.get(volume_id, b'')
        return snapshot_id

    def fail(self, method, error=None):
        """Make the proxy ``method`` (``'image.put'``) raise ``error``."""
        proxy, name = method.split('.')
        getattr(getattr(self.conn, proxy), name).side_effect = (
            error or sdk_exc.HttpException('503 Service Unavailable'))

    def created(self):
        """Ids of every resource now in the cloud, by kind."""
        return {'servers': sorted(self.servers),
                'images': sorted(self.images),
                'volumes': sorted(self.volumes),
                'snapshots': sorted(self.snapshots)}

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _get(table, kind, resource):
        try:
            return table[_ident(resource)]
        except KeyError:
            raise sdk_exc.NotFoundException('%s %s not found'
                                            % (kind, _ident(resource)))

    def _store(self, image_id, data):
        self.data[image_id] = data
        self.images[image_id].update(
            status='active', size=len(data), os_hash_algo='sha512',
            os_hash_value=hashlib.sha512(data).hexdigest())

    def _server(self, server_id):
        return sdk_server.Server(**self._get(self.servers, 'Server',
                                             server_id))

    def _set_status(self, server, status):
        self._get(self.servers, 'Server', server)['status'] = status

    # -- compute -------------------------------------------------------------

    def _get_server(self, server):
        return self._server(_ident(server))

    def _servers(self, details=True, all_projects=False, **query):
        return [self._server(ident) for ident in self.servers]

    def _pause_server(self, server):
        self._set_status(server, 'PAUSED')

    def _unpause_server(self, server):
        self._set_status(server, 'ACTIVE')

    def _stop_server(self, server):
        self._set_status(server, 'SHUTOFF')

    def _start_server(self, server):
        self._set_status(server, 'ACTIVE')

    def _rebuild_server(self, server, image, **attrs):
        found = self._get(self.servers, 'Server', server)
        found['image'] = {'id': _ident(image)}
        self.data[found['id']] = self.data[_ident(image)]
        return self._server(found['id'])

    def _create_server_image(self, server, name, metadata=None, wait=False,
                             timeout=120):
        image_id = self.add_image(name=name, properties=dict(metadata or {}))
        self._store(image_id, self.data[_ident(server)])
        return sdk_image.Image(**self.images[image_id])

    def _create_server(self, **attrs):
        server_id = self.new_id('server')
        self.add_server(server_id, **attrs)
        return self._server(server_id)

    def _delete_server(self, server, ignore_missing=True, force=False):
        self.servers.pop(_ident(server), None)

    def _create_volume_attachment(self, server, volume=None, **attrs):
        found = self._get(self.volumes, 'Volume', volume)
        found.update(status='in-use', attachments=[
            {'server_id': _ident(server), 'device': attrs.get('device')}])

    def _delete_volume_attachment(self, server, volume, ignore_missing=True):
        self._get(self.volumes, 'Volume', volume).update(status='available',
                                                         attachments=[])

    # -- image ---------------------------------------------------------------

    def _images(self, **query):
        return [self._get_image(ident) for ident in self.images]

    def _get_image(self, image):
        return sdk_image.Image(**self._get(self.images, 'Image', image))

    def _delete_image(self, image, store=None, ignore_missing=True):
        self.images.pop(_ident(image), None)

    def _create_image(self, name, disk_format=None, container_format=None,
                      **kwargs):
        return self._get_image(self.add_image(name=name, properties=kwargs))

    def _put(self, url, data=None, **kwargs):
        image_id = url.split('/')[2]
        self._get(self.images, 'Image', image_id)
        self._store(image_id, b''.join(data))
        return fake_sdk.response(204)

    def _patch(self, url, json=None, **kwargs):
        found = self._get(self.images, 'Image', url.split('/')[2])
        props = found.setdefault('properties', {})
        for operation in json:
            props[operation['path'].lstrip('/')] = operation['value']
        return fake_sdk.response(200)

    def _download_image(self, image, stream=False, output=None,
                        chunk_size=1024 * 1024, store_preferences=None):
        self._get(self.images, 'Image', image)
        response = requests.Response()
        response.status_code = 200
        response.raw = io.BytesIO(self.data[_ident(image)])
        return response

    # -- block storage -------------------------------------------------------

    def _snapshots(self, details=True, all_projects=False, **query):
        return [self._get_snapshot(ident) for ident in self.snapshots]

    def _get_snapshot(self, snapshot):
        return sdk_snapshot.Snapshot(**self._get(self.snapshots,
                                                 'Snapshot', snapshot))

    def _create_snapshot(self, **attrs):
        snapshot_id = self.new_id('snapshot')
        self.add_snapshot(snapshot_id, **attrs)
        return self._get_snapshot(snapshot_id)

    def _delete_snapshot(self, snapshot, ignore_missing=True, force=False):
        self.snapshots.pop(_ident(snapshot), None)

    def _set_snapshot_metadata(self, snapshot, **metadata):
        found = self._get(self.snapshots, 'Snapshot', snapshot)
        found['metadata'].update(metadata)
        return self._get_snapshot(snapshot)

    def _volumes(self, details=True, all_projects=False, **query):
        return [self._get_volume(ident) for ident in self.volumes]

    def _get_volume(self, volume):
        return sdk_volume.Volume(**self._get(self.volumes, 'Volume', volume))

    def _create_volume(self, **attrs):
        source = attrs.get('snapshot_id') or attrs.get('image_id')
        volume_id = self.add_volume(self.new_id('volume'),
                                    self.data[source] if source else b'',
                                    **attrs)
        return self._get_volume(volume_id)

    def _delete_volume(self, volume, ignore_missing=True, force=False,
                       cascade=False):
        self.volumes.pop(_ident(volume), None)

    def _upload_volume_to_image(self, volume, image_name, force=False,
                                disk_format=None, container_format=None,
                                visibility=None, protected=None):
        image_id = self.add_image(name=image_name,
                                  data=self.data[_ident(volume)])
        return {'image_id': image_id}

    def _revert_volume_to_snapshot(self, volume, snapshot):
        self._get(self.volumes, 'Volume', volume)
        self.data[_ident(volume)] = self.data[_ident(snapshot)]

    def _post(self, url, json=None, microversion=None, **kwargs):
        # the one action the tasks post: os-reimage
        volume_id = url.split('/')[2]
        image_id = json['os-reimage']['image_id']
        self.data[volume_id] = self.data[image_id]
        self._get(self.volumes, 'Volume', volume_id).update(
            bootable='true', volume_image_metadata=dict(
                self.images[image_id].get('properties') or {},
                image_id=image_id))
        return fake_sdk.response(202)

    def _delete_volume_image_metadata(self, volume, keys=None):
        meta = self._get(self.volumes, 'Volume', volume).setdefault(
            'volume_image_metadata', {})
        for key in keys or list(meta):
            meta.pop(key, None)

    def _set_volume_image_metadata(self, volume, **metadata):
        self._get(self.volumes, 'Volume', volume).setdefault(
            'volume_image_metadata', {}).update(metadata)

    def _set_volume_bootable_status(self, volume, bootable):
        self._get(self.volumes, 'Volume', volume)['bootable'] = (
            'true' if bootable else 'false')
