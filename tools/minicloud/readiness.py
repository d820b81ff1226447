"""Waits until services are really up (run inside the venv for the API
checks: they need openstacksdk)."""

import time

from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import services
from tools.minicloud import util


def wait_http(state, entries, timeout=90):
    """Wait until every service in entries (Service objects) answers HTTP."""
    def one(entry):
        svc = state['services'][entry.name]
        url = f'http://{paths.HOST}:{entry.port}{entry.http_path}'
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not procs.alive(svc):
                raise util.Failure('%s exited during start' % entry.name,
                                   svc['log'])
            if util.http_ready(url, 1):
                return
        raise util.Failure('%s did not answer on port %d'
                           % (entry.name, entry.port), svc['log'])
    util.parallel([lambda e=e: one(e) for e in entries])


def wait_compute(s, secrets, timeout=90):
    """Wait until nova-compute is up and its hypervisor is mapped."""
    conn = util.admin_conn(secrets)
    deadline = time.time() + timeout
    log = s.log_path('nova-compute')
    while time.time() < deadline:
        svcs = [x for x in conn.compute.services(binary='nova-compute')
                if x.state == 'up' and x.status == 'enabled']
        if svcs:
            break
        time.sleep(0.5)
    else:
        raise util.Failure('nova-compute did not come up', log)
    while time.time() < deadline:
        procs.run(s, [f'{s.vbin}/nova-manage', '--config-file',
                      f'{s.etc}/nova/nova.conf', 'cell_v2', 'discover_hosts'],
                  'nova-setup')
        hyps = [h for h in conn.compute.hypervisors(details=True)
                if h.state == 'up']
        if hyps:
            return
        time.sleep(1)
    raise util.Failure('hypervisor not discovered', log)


def wait_block_storage(s, secrets, binaries, timeout=90):
    """Wait until the Cinder binaries are up and the scheduler has pools."""
    conn = util.admin_conn(secrets)
    deadline = time.time() + timeout
    while time.time() < deadline:
        up = {x.binary for x in conn.block_storage.services()
              if x.state == 'up'}
        if set(binaries) <= up:
            if list(conn.block_storage.backend_pools()):
                return
        time.sleep(0.5)
    raise util.Failure('%s/pools not ready' % '/'.join(sorted(binaries)),
                       s.log_path('cinder-volume'))


def group(table, name):
    """Names of the services of table in readiness group name."""
    return sorted(n for n, e in table.items() if e.group == name)


def wait_log_marker(entry, svc, log_offset, timeout=90):
    """Wait until a (re)started service logs its log_marker line.

    Only the log written after log_offset (where the restart began) counts:
    earlier runs logged the same line.
    """
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not procs.alive(svc):
            raise util.Failure('%s exited while starting' % entry.name,
                               svc['log'])
        with open(svc['log'], 'rb') as f:
            f.seek(log_offset)
            if entry.log_marker in f.read():
                return
        time.sleep(0.25)
    raise util.Failure('%s did not finish starting' % entry.name, svc['log'])


def wait_compute_restarted(secrets, svc, timeout=90):
    """Wait until the restarted nova-compute reports up."""
    conn = util.admin_conn(secrets)
    deadline = time.time() + timeout
    while time.time() < deadline:
        svcs = [x for x in conn.compute.services(binary='nova-compute')
                if x.state == 'up']
        if svcs:
            return
        time.sleep(0.5)
    raise util.Failure('nova-compute did not come back', svc['log'])


def wait_restarted(s, state, table, entry, log_offset):
    """Wait until a restarted service is back, by its restart_wait kind."""
    svc = state['services'][entry.name]
    kind = entry.restart_wait
    if kind == services.HTTP:
        wait_http(state, [entry])
    elif kind == services.COMPUTE:
        wait_log_marker(entry, svc, log_offset)
        wait_compute_restarted(state['secrets'], svc)
    elif kind == services.BLOCK_STORAGE:
        wait_log_marker(entry, svc, log_offset)
        wait_block_storage(s, state['secrets'],
                           group(table, services.BLOCK_STORAGE))
    elif kind == services.LOG_MARKER:
        wait_log_marker(entry, svc, log_offset)
