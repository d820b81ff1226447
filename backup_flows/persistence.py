"""The flow persistence backend (TaskFlow's SQLAlchemy backend), opened
once per process and URL."""

import contextlib
import os
import threading

from oslo_log import log as logging
from taskflow.persistence import backends as tf_backends

from backup_flows import conf as bf_conf

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

_backends = {}
_backends_lock = threading.Lock()


def persistence_url(conf=CONF):
    """Return the SQLAlchemy URL of the flow persistence database."""
    if conf.engine.persistence_connection:
        return conf.engine.persistence_connection
    return 'sqlite:///' + os.path.join(conf.state_path, 'flows.sqlite')


def get_backend(conf=CONF):
    """Return the persistence backend, creating its schema on first use."""
    url = persistence_url(conf)
    with _backends_lock:
        backend = _backends.get(url)
        if backend is None:
            if url.startswith('sqlite:///'):
                os.makedirs(os.path.dirname(url[len('sqlite:///'):]) or '.',
                            mode=0o700, exist_ok=True)
            backend = tf_backends.fetch({'connection': url})
            with contextlib.closing(backend.get_connection()) as conn:
                conn.upgrade()
            _backends[url] = backend
        return backend


def open_backend_in_background(conf=CONF):
    """Start opening the persistence backend in a daemon thread.

    An operation calls this before it plans: importing SQLAlchemy and
    checking the schema then overlap the cloud requests of planning. The
    flow's own :func:`get_backend` waits for it (same lock) or, if it
    failed, opens it again and raises the error.
    """
    def open_quietly():
        try:
            get_backend(conf)
        except Exception:
            LOG.debug('Opening the persistence backend in the background '
                      'failed; it is opened again when used', exc_info=True)

    threading.Thread(target=open_quietly, name='open-persistence',
                     daemon=True).start()
