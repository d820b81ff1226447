"""The flow persistence backend (TaskFlow's SQLAlchemy backend), opened
once per process and URL, and the job claims kept beside TaskFlow's tables.

A *claim* says which process runs a job: one row per job holding the
owner (host, pid, process start) and a heartbeat it refreshes while it runs.
Taking a job over is a compare-and-swap on the row's ``generation``, so of
two processes resuming the same interrupted job exactly one wins, whatever
the database (SQLite or PostgreSQL/MySQL shared by several hosts).
"""

import contextlib
import os
import threading

from oslo_log import log as logging

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
            from taskflow.persistence import backends as tf_backends

            from backup_flows.engine import sql
            backend = tf_backends.fetch({'connection': url})
            with contextlib.closing(backend.get_connection()) as conn:
                conn.upgrade()
            sql.create_tables(backend)
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



# The claim and job queries live in .sql, imported on first use: importing
# SQLAlchemy takes a quarter of a second, which a command pays in the
# background (open_backend_in_background) rather than before it starts.
_SQL_NAMES = ('CLAIMS', 'read_claim', 'read_claims', 'claim', 'beat',
              'release', 'claim_age', 'utcnow', 'list_flow_details',
              'delete_jobs')


def __getattr__(name):
    if name in _SQL_NAMES:
        from backup_flows.engine import sql
        return getattr(sql, name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
