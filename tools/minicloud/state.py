"""The state file: $MINICLOUD_HOME/run/state.json.

It holds ``services`` ({name: {pid, start_time, cmd, env, log, port}}),
``ready``, ``secrets`` (the generated passwords), ``home``, ``venv`` and
``components`` (the optional components that are on). A state written by
the single-file script before components existed has no ``components``:
they are then inferred from the services it lists.
"""

import json
import os
import threading

from tools.minicloud import procs

_SAVE_LOCK = threading.Lock()


def load(s):
    """The state, or an empty one when the file is missing or unreadable."""
    try:
        with open(s.state) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return {'services': {}}
    if not isinstance(state, dict):
        return {'services': {}}
    state.setdefault('services', {})
    return state


def write_private(path, text):
    """Replace path atomically by a file of mode 0600 holding text.

    The file holds passwords: it is created 0600 (never world-readable,
    not even briefly) and renamed over the old one, so a reader sees the
    old or the new content, never a partial one.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = '%s.%d.%d.tmp' % (path, os.getpid(), threading.get_ident())
    try:
        os.unlink(tmp)  # left by a crash
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(s, state):
    """Write the state file (0600, atomic)."""
    with _SAVE_LOCK:
        write_private(s.state, json.dumps(state, indent=1))


def running(s):
    """(state, {name: service record} of the services still alive)."""
    state = load(s)
    up = {n: svc for n, svc in state['services'].items() if procs.alive(svc)}
    return state, up


def components_on(state, registry):
    """Names of the components on, in registry order.

    registry maps a component name to an object with ``service_names``.
    """
    if 'components' in state:
        return [n for n in registry if n in state['components']]
    svcs = state.get('services', {})
    return [n for n, comp in registry.items()
            if svcs and all(x in svcs for x in comp.service_names)]


def is_ready(state, up):
    """Whether the cloud in state is ready and all its services run."""
    svcs = state.get('services', {})
    return bool(state.get('ready') and svcs and len(up) == len(svcs))
