"""``start``: the phases of a start from empty data, and adding components
to a running cloud."""

import secrets as secrets_mod
import time

from tools.minicloud import bootstrap
from tools.minicloud import databases
from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import readiness
from tools.minicloud import render
from tools.minicloud import resources
from tools.minicloud import services
from tools.minicloud import state as state_mod
from tools.minicloud import util
from tools.minicloud import venv
from tools.minicloud.components import REGISTRY
from tools.minicloud.components import load


def start_services(s, state, entries):
    """Spawn the services (Service objects) and record them."""
    for e in entries:
        state['services'][e.name] = procs.spawn(s, e.name, e.cmd, e.env,
                                                e.port)
    state_mod.save(s, state)


def start_and_wait(s, state, entries):
    """Spawn the services, then wait until those with a port answer."""
    start_services(s, state, entries)
    readiness.wait_http(state, [e for e in entries if e.port])


def prepare(s, state, comps):
    """Empty home, drivers, configs (core then components), rings, MariaDB."""
    bootstrap.wipe_home(s)
    venv.install_drivers(s)
    render.write_configs(s, state['secrets']['service'])
    for comp in comps:
        comp.configure(s, state)
    util.parallel([
        lambda: bootstrap.build_rings(s),
        lambda: databases.recreate_mysql_database(
            s, state['secrets']['service'])])


def database_steps(s, state, table):
    """The steps of the databases phase (Keystone starts during it)."""
    cached = databases.templates_ready(s)
    secrets = state['secrets']

    def keystone_first():
        bootstrap.keystone_setup(s, secrets['admin'])
        start_and_wait(s, state, [table['keystone']])
        resources.identity_setup(secrets)

    def schemas():
        if cached:
            databases.restore_templates(s)
        else:
            databases.recreate_databases(s)
            util.parallel(databases.db_syncs(s))
            databases.save_templates(s)

    def sync_then_keystone():
        schemas()
        keystone_first()

    return [sync_then_keystone, lambda: databases.recreate_vhost(s)]


def ready_waits(s, state, comps):
    """The core's readiness waits, then the components'."""
    secrets = state['secrets']
    core = services.core(s)
    waits = [lambda: readiness.wait_compute(s, secrets),
             lambda: readiness.wait_block_storage(
                 s, secrets, readiness.group(core, services.BLOCK_STORAGE))]
    return waits + [lambda c=c: c.wait_ready(s, state) for c in comps]


def fresh_start(s, names, phases):
    """Start the core and the named components from empty data (in venv)."""
    comps = load(names)
    table = services.table(s, comps)
    state = {'services': {}, 'ready': False,
             'secrets': {k: secrets_mod.token_hex(12)
                         for k in paths.SECRET_NAMES},
             'home': s.home, 'venv': s.venv,
             'components': [c.name for c in comps]}
    phases.run('prepare', prepare, s, state, comps)
    state_mod.save(s, state)
    phases.run('databases', util.parallel, database_steps(s, state, table))
    rest = [e for n, e in table.items() if n != 'keystone']
    phases.run('services', start_and_wait, s, state, rest)
    phases.run('ready', util.parallel, ready_waits(s, state, comps))
    steps = resources.steps(s, state['secrets'])
    for comp in comps:
        steps += comp.resources(s, state)
    phases.run('resources', util.parallel, steps)
    resources.write_clouds_yaml(s, state['secrets'])
    state['ready'] = True
    state_mod.save(s, state)
    util.say('ready in %.1f s; clouds.yaml: %s (clouds minicloud, '
             'minicloud-alt, minicloud-admin)'
             % (time.time() - phases.t0, s.clouds_yaml))


def restart(s, state, table, name, install_drivers=False):
    """Restart one running service with its recorded command; wait for it.

    With install_drivers, the test drivers are copied into the venv while
    the service is down, so that a changed driver takes effect. Returns
    the seconds from the new spawn until the service was back.
    """
    svc = state['services'][name]
    entry = table.get(name)
    procs.kill(svc, entry.kill_grace if entry else 10.0)
    if install_drivers:
        venv.install_drivers(s)
    with open(svc['log'], 'a') as f:
        f.write('\n==== minicloud restart-service %s at %s ====\n'
                % (name, time.ctime()))
        log_offset = f.tell()
    started = time.time()
    state['services'][name] = procs.spawn(s, name, svc['cmd'], svc['env'],
                                          svc.get('port'))
    state_mod.save(s, state)
    if entry:
        readiness.wait_restarted(s, state, table, entry, log_offset)
    return time.time() - started


def add_components(s, state, names, phases):
    """Configure, start and wait for components on a running cloud."""
    comps = load(names)
    on = state_mod.components_on(state, REGISTRY)
    table = services.table(s, load(on) + comps)
    new = [e for c in comps for e in c.services(s).values()]
    try:
        for comp in comps:
            to_restart = comp.configure(s, state)
            for name in to_restart:
                if name in state['services']:
                    phases.run('restart', restart, s, state, table, name)
        phases.run('services', start_and_wait, s, state, new)
        phases.run('ready', util.parallel,
                   [lambda c=c: c.wait_ready(s, state) for c in comps])
        phases.run('resources', util.parallel,
                   [st for c in comps for st in c.resources(s, state)])
    except Exception as e:
        for entry in new:
            if entry.name in state['services']:
                procs.kill(state['services'].pop(entry.name),
                           entry.kill_grace)
        state_mod.save(s, state)
        if isinstance(e, util.Failure):
            raise util.ComponentFailure(str(e), e.log)
        raise
    state['components'] = on + [c.name for c in comps]
    state_mod.save(s, state)
    util.say('added %s in %.1f s' % (', '.join(names),
                                     time.time() - phases.t0))
