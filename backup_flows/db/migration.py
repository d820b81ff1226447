"""Schema versions of the service database, through alembic's API.

The migrations live in ``migrations/versions``; they run on the connection
of ``[database] connection`` (there is no alembic.ini). Downgrades are not
supported: restore the database's own backup instead, as for any OpenStack
service.
"""

import contextlib
import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
from oslo_db import exception as db_exc
from sqlalchemy import exc as sa_exc

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows.db import api

CONF = bf_conf.CONF

_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')


def _alembic_config(connection=None):
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


@contextlib.contextmanager
def _connection(conf, begin):
    """A connection to the service database; a database that cannot be
    reached or used is one :class:`~backup_flows.exceptions.DatabaseError`
    naming it (without its password)."""
    try:
        engine = api.get_engine(conf)
        with (engine.begin() if begin else engine.connect()) as connection:
            yield connection
    except (db_exc.DBError, sa_exc.SQLAlchemyError, OSError) as exc:
        reason = ' '.join(str(exc).split('\n', 1)[0].split())
        raise exceptions.DatabaseError(
            url=api.display_url(api.connection_url(conf)),
            reason=reason or type(exc).__name__)


def upgrade(revision='head', conf=CONF):
    """Upgrade the schema to ``revision`` (default: the newest), in one
    transaction where the database allows it; a database already there is
    left as it is."""
    with _connection(conf, begin=True) as connection:
        command.upgrade(_alembic_config(connection), revision)


def version(conf=CONF):
    """The schema's current revision, or None for a database without the
    schema."""
    with _connection(conf, begin=False) as connection:
        context = alembic_migration.MigrationContext.configure(connection)
        return context.get_current_revision()


def head():
    """The newest revision this release knows."""
    scripts = alembic_script.ScriptDirectory.from_config(_alembic_config())
    return scripts.get_current_head()
