"""How a restore maps a backed-up server onto the target cloud: flavor,
networks, availability zone, volume types, security groups and key pair,
each checked before anything is created, with warnings for what is
dropped."""

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows import tags
from backup_flows.cloud import server_definition as definition

LOG = logging.getLogger(__name__)

GiB = 1 << 30



class Mapping:
    """Maps a server definition onto a target cloud; collects warnings."""

    def __init__(self, conn, cloud, backup_id, manifest):
        self.conn = conn
        self.cloud = cloud
        self.backup_id = backup_id
        self.manifest = manifest
        self.warnings = []
        server = (manifest.get('metadata') or {}).get('server')
        if not isinstance(server, dict) or not server.get('disks'):
            raise exceptions.BackupNotRestorable(
                backup_id=backup_id,
                reason='its manifest holds no server definition (was it '
                       'written by "backup-flows-manage backup create"?)')
        self.server = server
        self._boot_image = None

    def warn(self, message, *args):
        LOG.warning(message, *args)
        self.warnings.append(message % args)

    def not_found(self, kind, name, hint):
        return exceptions.TargetResourceNotFound(
            kind=kind, name=name, cloud=self.cloud, hint=hint)

    # -- compute -------------------------------------------------------------

    def flavor(self, requested, root):
        conn = self.conn
        if requested:
            flavor = conn.compute.find_flavor(requested, ignore_missing=True)
            if flavor is None:
                raise self.not_found('Flavor', requested,
                                     'choose an existing one with --flavor')
        else:
            original = self.server.get('flavor') or {}
            flavor = None
            for ident in (original.get('id'), original.get('name')):
                if ident and flavor is None:
                    flavor = conn.compute.find_flavor(ident,
                                                      ignore_missing=True)
            if flavor is None:
                raise self.not_found(
                    'Flavor of the original server',
                    original.get('name') or original.get('id'),
                    'choose one with --flavor')
        self._check_image_minimums(flavor, root)
        if (root['role'] == tags.ROLE_ROOT_IMAGE and flavor.disk
                and flavor.disk * GiB < root['size']):
            raise exceptions.InvalidInput(
                reason='flavor %s has a %d GiB root disk, smaller than the '
                       'backed-up root disk (%d bytes); choose a larger one '
                       'with --flavor' % (flavor.name, flavor.disk,
                                          root['size']))
        return flavor

    def _find_network(self, name_or_id):
        try:
            return self.conn.network.find_network(name_or_id,
                                                  ignore_missing=True)
        except sdk_exc.DuplicateResource:
            raise exceptions.InvalidInput(
                reason='several networks are named %s in cloud %s; give '
                       'its id with --network' % (name_or_id, self.cloud))

    def networks(self, requested):
        if requested:
            found = []
            for name in requested:
                network = self._find_network(name)
                if network is None:
                    raise self.not_found('Network', name,
                                         'check --network')
                found.append(network)
        else:
            found = []
            for nic in self.server.get('networks') or []:
                network = None
                for ident in (nic.get('network_id'), nic.get('network_name')):
                    if ident and network is None:
                        network = self._find_network(ident)
                if network is None:
                    raise self.not_found(
                        'Network of the original server',
                        '%s (%s)' % (nic.get('network_name'),
                                     nic.get('network_id')),
                        'map the server onto networks of the target with '
                        '--network')
                found.append(network)
        if not found:
            return 'none', []
        return [{'uuid': net.id} for net in found], [net.id for net in found]

    def availability_zone(self, requested):
        zones = [zone.name for zone in self.conn.compute.availability_zones()
                 if (zone.state or {}).get('available')]
        if requested:
            if requested not in zones:
                raise self.not_found(
                    'Availability zone', requested,
                    'available zones: %s' % (', '.join(zones) or 'none'))
            return requested
        original = self.server.get('availability_zone')
        if original and original in zones:
            return original
        if original:
            self.warn('Availability zone %s does not exist in cloud %s; '
                      'the scheduler chooses one', original, self.cloud)
        return None

    def security_groups(self):
        kept = []
        project_id = self.conn.current_project_id
        for name in self.server.get('security_groups') or []:
            try:
                group = self.conn.network.find_security_group(
                    name, ignore_missing=True, project_id=project_id)
            except sdk_exc.DuplicateResource:
                group = name
            if group is None:
                self.warn('Security group %s does not exist in cloud %s; '
                          'the server is restored without it', name,
                          self.cloud)
            else:
                kept.append(name)
        return kept

    def key_name(self):
        name = self.server.get('key_name')
        if not name:
            return None
        if self.conn.compute.find_keypair(name, ignore_missing=True) is None:
            self.warn('Key pair %s does not exist in cloud %s; the server '
                      'is restored without it', name, self.cloud)
            return None
        return name

    # -- block storage -------------------------------------------------------

    def requested_volume_type(self, requested):
        if not requested:
            return None
        vtype = self.conn.block_storage.find_type(requested,
                                                  ignore_missing=True)
        if vtype is None:
            raise self.not_found('Volume type', requested,
                                 'check --volume-type')
        return vtype.name

    def volume_type(self, requested, original):
        """``requested`` (checked already), else the original if it
        exists, else None: the target's default type."""
        if requested:
            return requested
        if not original:
            return None
        if self.conn.block_storage.find_type(
                original, ignore_missing=True) is None:
            self.warn('Volume type %s does not exist in cloud %s; the '
                      'default type is used', original, self.cloud)
            return None
        return original

    def volume_zone(self, server_zone):
        if not server_zone:
            return None
        zones = [zone.name for zone in
                 self.conn.block_storage.availability_zones()]
        return server_zone if server_zone in zones else None

    def _check_image_minimums(self, flavor, root):
        """Nova refuses a flavor below the image's min_ram (and, for a
        local root disk, min_disk): fail now, not at create-server."""
        image = self.boot_image()
        if flavor.ram and flavor.ram < image['min_ram']:
            raise exceptions.InvalidInput(
                reason='flavor %s has %d MiB of RAM, less than the %d MiB '
                       'the backed-up server\'s image needs (min_ram); '
                       'choose a larger one with --flavor' % (
                           flavor.name, flavor.ram, image['min_ram']))
        if (root['role'] == tags.ROLE_ROOT_IMAGE and flavor.disk
                and flavor.disk < image['min_disk']):
            raise exceptions.InvalidInput(
                reason='flavor %s has a %d GiB root disk, less than the %d '
                       'GiB the backed-up server\'s image needs (min_disk); '
                       'choose a larger one with --flavor' % (
                           flavor.name, flavor.disk, image['min_disk']))

    def boot_image(self):
        """The image entry (boot properties, min_disk, min_ram) the root
        disk is restored with: as the backup recorded it; for an older
        backup of an image-backed server, as the source image shows it in
        the target cloud, if it is there."""
        if self._boot_image is None:
            self._boot_image = (definition.recorded_boot_image(self.server)
                                or self._source_image())
        return self._boot_image

    def _source_image(self):
        image = self.server.get('image') or {}
        document = (definition.get_image_document(self.conn, image['id'])
                    if image.get('id') else None)
        if document is None:
            self.warn('Backup %s records no boot properties (hw_*, os_*...) '
                      'of its image %s, which is not in cloud %s either: the '
                      'server is restored without them', self.backup_id,
                      image.get('id'), self.cloud)
        return definition.boot_image(image.get('id'), image.get('name'),
                                     document)

    def _image_spec(self, disk, server_name):
        """CreateImage spec of a disk; a root disk's image gets the boot
        properties (Cinder copies them into the image metadata of a boot
        volume created from it)."""
        props = {tags.BACKUP_ID: self.backup_id, tags.DISK: disk['disk']}
        spec = {'role': tags.ROLE_RESTORE_IMAGE % disk['disk'],
                'name': '%s-%s' % (server_name, disk['disk']),
                'properties': props}
        if disk['role'] in (tags.ROLE_ROOT_IMAGE,
                            tags.ROLE_ROOT_VOLUME):
            image = self.boot_image()
            props.update(image['properties'])
            spec['min_disk'] = image['min_disk']
            if image['min_ram']:
                # openstacksdk's create_image, which CreateImage passes
                # the properties to, sends min_ram as Glance's own field.
                props['min_ram'] = image['min_ram']
        return spec

    # -- disks ---------------------------------------------------------------

    def disks(self, server_name, requested_type, volume_zone):
        """Planned disks, root first (see restore_flow.get_flow)."""
        stored = {disk['name']: disk for disk in self.manifest['disks']}
        roots = [d for d in self.server['disks']
                 if d['role'] in (tags.ROLE_ROOT_IMAGE,
                                  tags.ROLE_ROOT_VOLUME)]
        if len(roots) != 1:
            raise exceptions.BackupNotRestorable(
                backup_id=self.backup_id,
                reason='its server definition has %d root disks' % len(roots))
        others = [d for d in self.server['disks'] if d not in roots]
        planned = []
        for disk in roots + others:
            name = disk['disk']
            if name not in stored:
                raise exceptions.BackupNotRestorable(
                    backup_id=self.backup_id,
                    reason='disk %s of the server definition is not in the '
                           'backup' % name)
            size = stored[name]['size']
            plan = {'disk': name, 'role': disk['role'], 'size': size,
                    'sha256': stored[name]['sha256'],
                    'image': self._image_spec(disk, server_name)}
            if disk['role'] != tags.ROLE_ROOT_IMAGE:
                needed = max(1, -(-size // GiB))
                plan['volume'] = {
                    'role': tags.ROLE_RESTORE_VOLUME % name,
                    'name': '%s-%s' % (server_name, name),
                    'size_gb': max(needed, disk.get('size_gb') or 0),
                    'volume_type': self.volume_type(
                        requested_type, disk.get('volume_type')),
                    'availability_zone': volume_zone,
                    'description': 'Restored from backup %s (volume %s)' % (
                        self.backup_id, disk.get('volume_id'))}
            planned.append(plan)
        ignored = set(stored) - {d['disk'] for d in planned}
        if ignored:
            self.warn('Disks %s of backup %s are not in its server '
                      'definition and are not restored',
                      ', '.join(sorted(ignored)), self.backup_id)
        return planned
