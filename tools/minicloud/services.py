"""The service table: what runs, how it starts and how to tell it is up.

``core(s)`` lists the services that always run; a component adds its own
(see ``components``). ``table(s, components)`` is the table of a cloud.
"""

import dataclasses

from tools.minicloud import paths

# Wait kinds after a start or restart (see readiness.wait_restarted).
HTTP = 'http'
COMPUTE = 'compute'
BLOCK_STORAGE = 'block-storage'
LOG_MARKER = 'log-marker'


@dataclasses.dataclass(frozen=True)
class Service:
    """One service of the table.

    ``port`` and ``http_path``: where it answers HTTP once up. ``group``:
    the readiness wait that requires it (COMPUTE or BLOCK_STORAGE: the
    service reports up in Nova's or Cinder's service list). ``restart_wait``:
    how ``restart-service`` waits for it (LOG_MARKER: until it has logged
    its ``log_marker``). ``log_marker``: the line it logs once initialised
    after a restart. ``kill_grace``: seconds between SIGTERM and SIGKILL.
    """

    name: str
    cmd: list
    env: dict = dataclasses.field(default_factory=dict)
    port: int | None = None
    http_path: str = '/'
    group: str | None = None
    restart_wait: str | None = None
    log_marker: bytes | None = None
    kill_grace: float = 10.0


def gunicorn(s, name, module, port, args='', env=None):
    """(cmd, env) of a WSGI service under gunicorn (minicloud_drivers.wsgi)."""
    cmd = [f'{s.vbin}/gunicorn', '--bind', f'{paths.HOST}:{port}',
           '--workers', '1', '--worker-class', 'gthread', '--threads', '8',
           '--keep-alive', '75', '--timeout', '900', '--graceful-timeout',
           '5', '--name', 'minicloud-' + name,
           'minicloud_drivers.wsgi:application']
    e = {'MINICLOUD_WSGI_MODULE': module, 'MINICLOUD_WSGI_ARGS': args,
         'MINICLOUD_WSGI_PROG': name}
    e.update(env or {})
    return cmd, e


def wsgi(s, name, module, args='', env=None):
    """A gunicorn service entry on its port from paths.PORTS."""
    port = paths.PORTS[name]
    cmd, e = gunicorn(s, name, module, port, args, env)
    return Service(name, cmd, e, port=port, restart_wait=HTTP)


def _swift(s, kind):
    name = 'swift-' + kind
    path = '/healthcheck' if kind == 'proxy' else '/recon/diskusage'
    return Service(name, [f'{s.vbin}/swift-{kind}-server',
                          f'{s.etc}/swift/{kind}-server.conf', '-v'],
                   port=paths.PORTS[name], http_path=path,
                   restart_wait=HTTP)


def core(s):
    """name -> Service of the core; start order matters only for keystone."""
    etc, vbin = s.etc, s.vbin
    nconf = ['--config-file', f'{etc}/nova/nova.conf']
    cconf = ['--config-file', f'{etc}/cinder/cinder.conf']
    entries = [
        wsgi(s, 'keystone', 'keystone.wsgi.api', env={
            'OS_KEYSTONE_CONFIG_DIR': f'{etc}/keystone'}),
        wsgi(s, 'glance-api', 'glance.wsgi.api', env={
            'OS_GLANCE_CONFIG_DIR': f'{etc}/glance'}),
        wsgi(s, 'placement-api', 'placement.wsgi.api', env={
            'OS_PLACEMENT_CONFIG_DIR': f'{etc}/placement'}),
        wsgi(s, 'nova-api', 'nova.wsgi.osapi_compute', env={
            'OS_NOVA_CONFIG_DIR': f'{etc}/nova'}),
        wsgi(s, 'cinder-api', 'cinder.wsgi.api', args=' '.join(cconf)),
        wsgi(s, 'neutron-api', 'neutron.wsgi.api',
             args=f'--config-file {etc}/neutron/neutron.conf'),
        Service('nova-conductor', [f'{vbin}/nova-conductor'] + nconf),
        Service('nova-scheduler', [f'{vbin}/nova-scheduler'] + nconf),
        # the marker comes from this project's virt driver, once it has
        # restored its guests
        Service('nova-compute', [f'{vbin}/nova-compute'] + nconf,
                group=COMPUTE, restart_wait=COMPUTE,
                log_marker=b'minicloud: restored'),
        Service('cinder-scheduler', [f'{vbin}/cinder-scheduler'] + cconf,
                group=BLOCK_STORAGE),
        Service('cinder-volume', [f'{vbin}/cinder-volume'] + cconf,
                group=BLOCK_STORAGE, restart_wait=BLOCK_STORAGE,
                log_marker=b'Driver post RPC initialization completed'),
    ]
    entries += [_swift(s, kind)
                for kind in ('account', 'container', 'object', 'proxy')]
    return {e.name: e for e in entries}


def table(s, components=()):
    """name -> Service of the core plus the given components."""
    result = core(s)
    for comp in components:
        result.update(comp.services(s))
    return result
