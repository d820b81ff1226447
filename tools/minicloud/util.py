"""Small helpers shared by the modules: errors, output, threads, probes."""

import os
import socket
import threading
import time
import urllib.error
import urllib.request

from tools.minicloud import paths


class Failure(Exception):
    """A step failed; carries the log to show."""

    def __init__(self, msg, log=None):
        super().__init__(msg)
        self.log = log


class ComponentFailure(Failure):
    """Adding a component to a running cloud failed; the cloud keeps on."""


class UsageError(Exception):
    """Bad command line: one line on stderr, exit status 2."""


def say(msg):
    """Print one progress line."""
    print('minicloud: ' + msg, flush=True)


class Phases:
    """Times each phase of a start and prints it."""

    def __init__(self):
        self.t0 = float(os.environ.get('MINICLOUD_T0', time.time()))
        self.times = []

    def run(self, name, fn, *args):
        """Run fn(*args) as the phase name; return its result."""
        t = time.time()
        result = fn(*args)
        dt = time.time() - t
        self.times.append((name, dt))
        say('%-10s %6.1f s' % (name, dt))
        return result


def parallel(fns):
    """Run callables in threads; re-raise the first failure."""
    errors = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: B036 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def tail(path, n=40):
    """The last n lines of a log file, or a note that it does not exist."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            pos = f.tell()
            data = b''
            # read backwards in blocks: service logs grow to many MiB
            while pos > 0 and data.count(b'\n') <= n:
                step = min(pos, 64 * 1024)
                pos -= step
                f.seek(pos)
                data = f.read(step) + data
    except OSError:
        return '(no log %s)' % path
    lines = data.decode(errors='replace').splitlines()
    return '\n'.join(lines[-n:]) if n > 0 else ''


def tcp_open(port, host=paths.HOST):
    """Whether something accepts TCP connections on host:port."""
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def http_ready(url, timeout):
    """Whether url answers HTTP (any status) within timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # it answers
        except OSError:
            time.sleep(0.25)
    return False


def admin_conn(secrets):
    """An openstacksdk connection as admin (only inside the cloud's venv)."""
    import openstack
    return openstack.connect(
        auth_url='http://%s:5000/v3' % paths.HOST, region_name=paths.REGION,
        user_domain_name='Default', project_domain_name='Default',
        identity_api_version='3', username='admin',
        password=secrets['admin'], project_name='admin')
