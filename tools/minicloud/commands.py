"""The commands: start, stop, status, env, logs, restart-service.

Each returns the exit status. ``start`` and ``restart-service`` re-exec
themselves inside the cloud's venv (they need openstacksdk).
"""

import os
import sys
import threading

from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import services
from tools.minicloud import start as start_mod
from tools.minicloud import state as state_mod
from tools.minicloud import util
from tools.minicloud import venv
from tools.minicloud.components import REGISTRY
from tools.minicloud.components import load


def active_table(s, state):
    """The service table of the cloud in state (core + its components)."""
    return services.table(s, load(state_mod.components_on(state, REGISTRY)))


def cmd_start(s, argv, names):
    """Start the cloud with the named components, or add them to it."""
    state, up = state_mod.running(s)
    running = state_mod.is_ready(state, up)
    missing = [n for n in names
               if n not in state_mod.components_on(state, REGISTRY)]
    if running and not missing:
        util.say('already running (MINICLOUD_HOME=%s)' % s.home)
        return 0
    phases = util.Phases()
    if not venv.in_venv(s):
        if up and not running:
            util.say('stopping a partly running minicloud first')
            cmd_stop(s, quiet=True)
        if not running:
            os.makedirs(s.home, exist_ok=True)
            phases.run('packages', venv.ensure_packages, s)
            phases.run('venv', venv.ensure_venv, s)
        venv.reexec(s, argv, phases.t0)
    if running:
        start_mod.add_components(s, state, missing, phases)
    else:
        start_mod.fresh_start(s, names, phases)
    return 0


def cmd_stop(s, quiet=False):
    """Stop every service of the state file; API front doors first."""
    state, up = state_mod.running(s)
    table = active_table(s, state)
    names = sorted(state['services'], key=lambda n: (n == 'keystone', n))
    threads = []
    for name in names:
        grace = table[name].kill_grace if name in table else 10.0
        t = threading.Thread(target=procs.kill,
                             args=(state['services'][name], grace))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    state['services'] = {}
    state['ready'] = False
    state['components'] = []
    if os.path.isdir(s.home):
        state_mod.save(s, state)
    if not quiet:
        util.say('stopped %d services' % len(up))
    return 0


def cmd_status(s):
    """One line per service, the total PSS, the components, readiness."""
    state, up = state_mod.running(s)
    svcs = state['services']
    if not svcs:
        print('minicloud: not running (MINICLOUD_HOME=%s)' % s.home)
        return 3
    pss = procs.sessions_pss()
    total_kib = total_procs = 0
    width = max(17, *map(len, svcs))
    for name in sorted(svcs):
        svc = svcs[name]
        port = (':%d' % svc['port']) if svc.get('port') else ''
        n, kib = pss.get(svc['pid'], (0, 0)) if name in up else (0, 0)
        total_kib += kib
        total_procs += n
        print('%-*s %-8s pid %-7s %2d procs %6.1f MiB  %s%s' % (
            width, name, 'running' if name in up else 'DEAD', svc['pid'], n,
            kib / 1024, paths.HOST if port else '', port))
    print('minicloud: %d processes, PSS %.1f MiB (PostgreSQL, MariaDB and '
          'RabbitMQ not counted)' % (total_procs, total_kib / 1024))
    print('minicloud: components: %s' % (
        ', '.join(state_mod.components_on(state, REGISTRY)) or 'none'))
    ready = state_mod.is_ready(state, up)
    print('minicloud: %s; MINICLOUD_HOME=%s; clouds.yaml %s' % (
        'ready' if ready else 'NOT ready', s.home, s.clouds_yaml))
    return 0 if ready else 1


def cmd_env(s):
    """export lines for eval."""
    print('export MINICLOUD_HOME=%s' % s.home)
    print('export OS_CLIENT_CONFIG_FILE=%s' % s.clouds_yaml)
    print('export OS_CLOUD=minicloud')
    return 0


def known_logs(s, state):
    """Names whose log can be shown: every service, and setup logs."""
    names = set(services.core(s)) | set(state['services'])
    for comp in load(REGISTRY):
        names |= set(comp.service_names)
    if os.path.isdir(s.log):
        names |= {f[:-4] for f in os.listdir(s.log) if f.endswith('.log')}
    return sorted(names)


def cmd_logs(s, name, lines):
    """Print the last lines of a service's log."""
    state = state_mod.load(s)
    if name not in known_logs(s, state):
        raise util.UsageError('unknown service %r (known: %s)' % (
            name, ', '.join(sorted(active_table(s, state)))))
    path = state['services'].get(name, {}).get('log') or s.log_path(name)
    if not os.path.exists(path):
        print('minicloud: no log for %s yet (%s)' % (name, path),
              file=sys.stderr)
        return 1
    text = util.tail(path, lines)
    if text:
        print(text, flush=True)
    return 0


def cmd_restart_service(s, argv, name):
    """Restart one service with the current test drivers; wait for it."""
    state, _ = state_mod.running(s)
    if name not in state['services']:
        raise util.UsageError('unknown or stopped service %r (running: %s)'
                              % (name, ', '.join(sorted(state['services']))
                                 or 'none'))
    if not venv.in_venv(s):
        venv.reexec(s, argv)
    took = start_mod.restart(s, state, active_table(s, state), name,
                             install_drivers=True)
    util.say('%s restarted in %.1f s' % (name, took))
    return 0
