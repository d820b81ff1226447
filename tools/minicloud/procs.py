"""Service processes: spawn in their own session, check, stop, measure."""

import os
import signal
import subprocess
import time

from tools.minicloud import util

SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


def _stat(pid):
    """The fields of /proc/<pid>/stat after the command name, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid):
    """The start time of pid (clock ticks since boot), None if it is gone."""
    fields = _stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def alive(svc):
    """Whether the process of a service record still runs.

    The start time guards against a reused PID. A zombie (a service that
    exited but that the process which spawned it has not reaped yet, as
    after a failed start) counts as dead.
    """
    pid = svc.get('pid')
    fields = _stat(pid) if pid else None
    return bool(fields and len(fields) > 19 and fields[0] not in 'ZX'
                and fields[19] == svc.get('start_time'))


def service_env(s):
    """The environment of services and setup commands: the cloud's venv."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'MINICLOUD_WSGI', 'PYTHON'))}
    env['PATH'] = s.vbin + ':' + SYSTEM_PATH
    env['VIRTUAL_ENV'] = s.venv
    return env


def spawn(s, name, cmd, env=None, port=None):
    """Start one service in its own session, logging to log/<name>.log.

    Returns its service record for the state file.
    """
    os.makedirs(s.log, exist_ok=True)
    log = s.log_path(name)
    full_env = service_env(s)
    full_env.update(env or {})
    with open(log, 'ab') as out:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=full_env,
                             cwd=s.home, start_new_session=True)
    return {'pid': p.pid, 'start_time': start_time(p.pid),
            'cmd': cmd, 'env': env or {}, 'log': log, 'port': port}


def kill(svc, grace=10.0):
    """Stop one service's process group: SIGTERM, then SIGKILL after grace."""
    if not alive(svc):
        return
    pgid = svc['pid']
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + grace
    while time.time() < deadline:
        if not alive(svc):
            break
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.time() + 5
    while alive(svc) and time.time() < deadline:
        time.sleep(0.05)


def run(s, cmd, log_name, env=None, ok=(0,)):
    """Run a setup command, appending its output to log/<log_name>.log."""
    os.makedirs(s.log, exist_ok=True)
    log = s.log_path(log_name)
    full_env = service_env(s)
    full_env.update(env or {})
    with open(log, 'ab') as out:
        out.write(('+ %s\n' % ' '.join(cmd)).encode())
        out.flush()
        rc = subprocess.call(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=full_env,
                             cwd=s.home)
    if rc not in ok:
        raise util.Failure('%s failed (exit %d)' % (' '.join(cmd[:3]), rc),
                           log)


def sessions_pss():
    """{session id: (process count, PSS in KiB)} over all processes.

    Every service is started in its own session (start_new_session), so
    its session holds it and all its children: gunicorn and cinder
    workers, privsep daemons.
    """
    out = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                sid = int(f.read().rsplit(')', 1)[1].split()[3])
            with open('/proc/%s/smaps_rollup' % entry) as f:
                pss = next(int(line.split()[1]) for line in f
                           if line.startswith('Pss:'))
        except (OSError, IndexError, ValueError, StopIteration):
            continue  # gone, kernel thread or not ours to read
        n, kib = out.get(sid, (0, 0))
        out[sid] = (n + 1, kib + pss)
    return out
