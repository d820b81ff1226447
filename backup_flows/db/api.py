"""The one place that sets up oslo.db for the service database.

The transaction context is built and configured from ``[database]`` on
first use, once per process and connection URL (as the flow persistence
backend is): nothing is read from the configuration at import time.
Queries run inside :func:`reader` or :func:`writer`, which join the
transaction the caller's context is already in.
"""

import os
import threading

from oslo_db.sqlalchemy import enginefacade
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import url as sa_url

from backup_flows import conf as bf_conf
from backup_flows.conf import database as database_conf

CONF = bf_conf.CONF

_context_managers = {}
_context_managers_lock = threading.Lock()


def connection_url(conf=CONF):
    """The SQLAlchemy URL of the service database: ``[database]
    connection``, else a SQLite file under ``state_path``."""
    if conf.database.connection:
        return conf.database.connection
    return 'sqlite:///' + os.path.join(conf.state_path,
                                       database_conf.DEFAULT_FILE)


def display_url(url):
    """``url`` fit for a log or an error message: without its password."""
    try:
        return sa_url.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return '(unparsable URL)'


def _make_sqlite_directory(url):
    parsed = sa_url.make_url(url)
    if (parsed.get_backend_name() == 'sqlite' and parsed.database
            and parsed.database != ':memory:'):
        # The catalog names every project's resources: keep it private.
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)),
                    mode=0o700, exist_ok=True)


def context_manager(conf=CONF):
    """The oslo.db transaction context of ``conf``'s service database,
    configured on first use."""
    url = connection_url(conf)
    with _context_managers_lock:
        manager = _context_managers.get(url)
        if manager is None:
            _make_sqlite_directory(url)
            manager = enginefacade.transaction_context()
            manager.configure(**dict(conf.database.items(),
                                     connection=url))
            _context_managers[url] = manager
        return manager


def get_engine(conf=CONF):
    """The SQLAlchemy engine of the service database (for migrations)."""
    return context_manager(conf).writer.get_engine()


def reader(context):
    """A read-only transaction for ``context`` (any object carrying
    ``project_id`` and ``user_id``, e.g. an oslo.context RequestContext):
    ``with reader(context) as session: ...``."""
    return context_manager().reader.using(context)


def writer(context):
    """A read-write transaction for ``context``, committed when the
    outermost ``with`` block ends without an error."""
    return context_manager().writer.using(context)
