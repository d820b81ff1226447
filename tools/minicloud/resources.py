"""What a started cloud holds: users, projects, the catalog, flavors,
images, the network, volume types; and clouds.yaml (run inside the venv:
needs openstacksdk)."""

import hashlib
import time

from tools.minicloud import paths
from tools.minicloud import state as state_mod
from tools.minicloud import util

FLAVORS = (('m1.nano', 1, 256, 0),  # root disk as large as the image
           ('m1.tiny', 1, 512, 1),
           ('m1.small', 1, 1024, 2),
           ('m1.medium', 2, 2048, 4))
# Same bytes: with a guest agent; without; with one Nova must use (a
# snapshot it could not freeze fails: os_require_quiesce).
IMAGES = (('minicloud-base', {'hw_qemu_guest_agent': 'yes'}),
          ('minicloud-base-noagent', {}),
          ('minicloud-base-quiesce', {'hw_qemu_guest_agent': 'yes',
                                      'os_require_quiesce': 'yes'}))


def catalog():
    """[(service name, type, URL)] of the core's catalog entries."""
    h = paths.HOST
    return [
        ('glance', 'image', 'http://%s:9292' % h),
        ('placement', 'placement', 'http://%s:8778' % h),
        ('nova', 'compute', 'http://%s:8774/v2.1' % h),
        ('cinder', 'block-storage', 'http://%s:8776/v3' % h),
        ('neutron', 'network', 'http://%s:9696' % h),
        ('swift', 'object-store', 'http://%s:8080/v1/AUTH_%%(project_id)s'
         % h),
    ]


def register_services(conn, entries):
    """Create catalog services and their three endpoints each."""
    idn = conn.identity
    for name, stype, url in entries:
        svc = idn.create_service(name=name, type=stype, enabled=True)
        for iface in ('public', 'internal', 'admin'):
            idn.create_endpoint(service_id=svc.id, interface=iface, url=url,
                                region_id=paths.REGION)


def identity_setup(secrets):
    """Roles, projects, users and the core's catalog in Keystone."""
    conn = util.admin_conn(secrets)
    idn = conn.identity
    roles = {r.name: r for r in idn.roles()}
    for name in ('member', 'reader', 'service', 'ResellerAdmin'):
        if name not in roles:
            roles[name] = idn.create_role(name=name)
    domain = idn.find_domain('default')
    projects = {}
    for name in ('service', 'demo', 'alt'):
        projects[name] = idn.create_project(
            name=name, domain_id=domain.id,
            description='minicloud %s project' % name)
    svc_user = idn.create_user(name='minicloud-service',
                               password=secrets['service'],
                               domain_id=domain.id,
                               default_project_id=projects['service'].id)
    for role in ('admin', 'service'):
        idn.assign_project_role_to_user(projects['service'], svc_user,
                                        roles[role])
    for name in ('demo', 'alt'):
        user = idn.create_user(name=name, password=secrets[name],
                               domain_id=domain.id,
                               default_project_id=projects[name].id)
        for role in ('member', 'reader'):
            idn.assign_project_role_to_user(projects[name], user, roles[role])
    register_services(conn, catalog())


def base_image_bytes(mib=paths.BASE_IMAGE_MIB):
    """Deterministic structured disk content: header, patterned blocks, zeros.

    First MiB: a text header then a block table; then 1 MiB blocks in which
    every 4 KiB page starts with its block/page number and is filled with a
    pattern derived from it; the last quarter is zeros (a sparse tail).
    """
    mib_b = 1024 * 1024
    out = bytearray(mib * mib_b)
    header = (b'MINICLOUD-BASE-IMAGE v1\n'
              b'backup-flows test disk, %d MiB, raw\n' % mib)
    out[:len(header)] = header
    data_blocks = mib * 3 // 4
    for blk in range(1, data_blocks):
        seed = hashlib.sha256(b'minicloud-block-%d' % blk).digest()
        page = (seed * (4096 // len(seed)))
        base = blk * mib_b
        for pg in range(0, mib_b, 4096):
            tag = b'BLK%06dPG%04d' % (blk, pg // 4096)
            out[base + pg:base + pg + 4096] = tag + page[len(tag):]
    return bytes(out)


def create_flavors(s, conn):
    """The public flavors m1.nano .. m1.medium."""
    for name, vcpus, ram, disk in FLAVORS:
        conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram,
                                   disk=disk, is_public=True)


def create_images(s, conn):
    """The public base images (same bytes); wait until active."""
    data = base_image_bytes()
    ids = []
    for name, props in IMAGES:
        img = conn.image.create_image(
            name=name, data=data, disk_format='raw',
            container_format='bare', visibility='public',
            allow_duplicates=True, validate_checksum=False, **props)
        ids.append(img.id)
    deadline = time.time() + 120
    for image_id in ids:
        while conn.image.get_image(image_id).status != 'active':
            if time.time() > deadline:
                raise util.Failure('image %s not active' % image_id,
                                   s.log_path('glance-api'))
            time.sleep(0.3)


def create_network(s, conn):
    """The shared flat network minicloud-net and its subnet (no DHCP)."""
    net = conn.network.create_network(
        name='minicloud-net', is_shared=True,
        provider_network_type='flat',
        provider_physical_network='physnet1')
    conn.network.create_subnet(
        name='minicloud-subnet', network_id=net.id, ip_version=4,
        cidr='10.20.0.0/24', gateway_ip='10.20.0.1', is_dhcp_enabled=False)


def create_volume_types(s, conn):
    """The volume type minicloud-small.

    Volumes of this type are backed by files of at most SMALL_VOLUME_MIB
    whatever their nominal size (Cinder counts in GiB): small disks for
    tests that do not need a real GiB (see cinder_volume.py).
    """
    conn.block_storage.create_type(
        name=paths.SMALL_VOLUME_TYPE, is_public=True,
        extra_specs={'minicloud:file_size_mib': str(paths.SMALL_VOLUME_MIB)})


def steps(s, secrets):
    """The core's resource steps, callables to run in parallel."""
    conn = util.admin_conn(secrets)
    return [lambda fn=fn: fn(s, conn) for fn in (
        create_flavors, create_images, create_network, create_volume_types)]


def clouds_yaml_text(secrets):
    """clouds.yaml: minicloud (demo), minicloud-alt, minicloud-admin."""
    def entry(name, user, project):
        return f'''  {name}:
    auth:
      auth_url: http://{paths.HOST}:5000/v3
      username: {user}
      password: {secrets[user]}
      project_name: {project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: {paths.REGION}
    identity_api_version: '3'
    interface: public
'''
    return ('clouds:\n' + entry('minicloud', 'demo', 'demo')
            + entry('minicloud-alt', 'alt', 'alt')
            + entry('minicloud-admin', 'admin', 'admin'))


def write_clouds_yaml(s, secrets):
    """Write clouds.yaml (0600: it holds the passwords)."""
    state_mod.write_private(s.clouds_yaml, clouds_yaml_text(secrets))
