"""The migrations: they build the schema the models describe, run again
harmlessly, and find the database where the configuration says."""

import os
import stat

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows.conf import database as database_conf
from backup_flows.db import api
from backup_flows.db import migration
from backup_flows.db import models

from tests.unit import db as db_base

TABLES = {'snapshots', 'backups', 'restores', 'jobs', 'trust_references',
          'trust_reference_holders', 'alembic_version'}


class ModelsMatchMigrationsTestCase(test_migrations.ModelsMigrationsSync,
                                    db_base.DatabaseTestCase):
    """alembic's autogenerate finds no difference between the models and
    the schema the migrations make."""

    migrate = False

    def db_sync(self, engine):
        migration.upgrade()

    def get_engine(self):
        return api.get_engine()

    def get_metadata(self):
        return models.Base.metadata


class UpgradeTestCase(db_base.DatabaseTestCase):

    migrate = False

    def test_empty_database_has_no_version(self):
        self.assertIsNone(migration.version())

    def test_upgrade_to_head_twice(self):
        migration.upgrade()
        self.assertEqual(migration.head(), migration.version())
        migration.upgrade()
        self.assertEqual(migration.head(), migration.version())
        self.assertEqual(TABLES, set(sa.inspect(api.get_engine())
                                     .get_table_names()))

    def test_sqlite_directory_is_private(self):
        migration.upgrade()
        mode = os.stat(os.path.join(self.tmp, 'db')).st_mode
        self.assertEqual(0o700, stat.S_IMODE(mode))

    def test_unusable_database_is_one_error(self):
        self.conf.config(connection='sqlite:////proc/no-such/x.sqlite',
                         group='database')
        error = self.assertRaises(exceptions.DatabaseError,
                                  migration.upgrade)
        self.assertIn('sqlite:////proc/no-such/x.sqlite', str(error))
        self.assertIn('[database] connection', str(error))


class OptionsTestCase(testtools.TestCase):

    def test_default_connection_follows_state_path(self):
        conf = cfg.ConfigOpts()
        bf_conf.register_opts(conf)
        conf([])
        conf.set_override('state_path', '/srv/bf')
        self.assertEqual('sqlite:////srv/bf/backup-flows.sqlite',
                         api.connection_url(conf))
        conf.set_override('connection', 'postgresql://db/bf',
                          group='database')
        self.assertEqual('postgresql://db/bf', api.connection_url(conf))

    def test_sample_config_shows_the_default(self):
        opts = database_conf.list_opts()['database']
        connection = [opt for opt in opts if opt.name == 'connection'][0]
        self.assertEqual('sqlite:///$state_path/backup-flows.sqlite',
                         connection.sample_default)
        # oslo.db's own option objects are left alone
        own = [opt for opt in db_options.database_opts
               if opt.name == 'connection'][0]
        self.assertIsNone(own.sample_default)

    def test_display_url_hides_the_password(self):
        self.assertEqual(
            'postgresql+psycopg2://bf:***@db:5432/bf',
            api.display_url('postgresql+psycopg2://bf:s3cret@db:5432/bf'))
        self.assertEqual('(unparsable URL)', api.display_url('no url'))
