"""The service database on a real PostgreSQL (127.0.0.1:5432, user
postgres, trust authentication): migrations, a catalog round trip, paging
from an index, and the races that only a server with concurrent
transactions has. Each test makes a database of its own and drops it.

Needs no cloud. Skipped when the server cannot be reached.
"""

import threading
import time
import uuid

from oslo_config import fixture as config_fixture
from oslo_context import context as oslo_context
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from backup_flows import conf as bf_conf
from backup_flows.db import api
from backup_flows.db import catalog
from backup_flows.db import migration
from backup_flows.db import models
from backup_flows.db import trusts

SERVER_URL = 'postgresql+psycopg2://postgres@127.0.0.1:5432/'
SERVER = 'c0ffee00-0000-4000-8000-000000000001'


def request_context(project_id='project-a', user_id='user-a'):
    """A request context of ``user_id`` in ``project_id``."""
    return oslo_context.RequestContext(project_id=project_id,
                                       user_id=user_id)


class PostgreSQLTestCase(testtools.TestCase):
    """A test on a new database ``bf_test_<random>``, migrated to head
    unless ``migrate`` is false."""

    migrate = True

    def setUp(self):
        super().setUp()
        admin = sa.create_engine(SERVER_URL + 'postgres',
                                 isolation_level='AUTOCOMMIT')
        self.addCleanup(admin.dispose)
        self.name = 'bf_test_%s' % uuid.uuid4().hex[:12]
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql('CREATE DATABASE %s' % self.name)
        except sa.exc.OperationalError as exc:
            self.skipTest('PostgreSQL on 127.0.0.1:5432 cannot be used: %s'
                          % exc)
        self.addCleanup(self._drop, admin)
        self.url = SERVER_URL + self.name
        self.conf = self.useFixture(config_fixture.Config(bf_conf.CONF))
        self.conf.config(connection=self.url, group='database')
        # closed before the configuration is reset and the database dropped
        self.addCleanup(api.get_engine().dispose)
        if self.migrate:
            migration.upgrade()
        self.context = request_context()

    def _drop(self, admin):
        with admin.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS %s WITH (FORCE)'
                                 % self.name)

    def raw_engine(self):
        """An engine of its own on the test database (another client)."""
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        return engine

    def wait_for_a_lock_wait(self, engine):
        """Return once a backend of the test database waits on a lock."""
        deadline = time.monotonic() + 10
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                waiting = conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                    ":name AND wait_event_type = 'Lock'"),
                    {'name': self.name}).scalar()
                if waiting:
                    return
                time.sleep(0.02)
        self.fail('no transaction waited on the lock')


class MigrationsTestCase(test_migrations.ModelsMigrationsSync,
                         PostgreSQLTestCase):

    migrate = False

    def db_sync(self, engine):
        migration.upgrade()

    def get_engine(self):
        return api.get_engine()

    def get_metadata(self):
        return models.Base.metadata

    def test_upgrade_twice(self):
        self.assertIsNone(migration.version())
        migration.upgrade()
        migration.upgrade()
        self.assertEqual(migration.head(), migration.version())


class CatalogTestCase(PostgreSQLTestCase):

    def test_round_trip_with_paging(self):
        other = request_context('project-b', 'user-b')
        catalog.create_entry(other, models.Backup,
                             {'server_id': SERVER, 'repository_url': 'r'})
        ids = [catalog.create_entry(
            self.context, models.Backup,
            {'server_id': SERVER, 'repository_url': 'swift://c/p',
             'tags': ['daily']})['id'] for _ in range(5)]
        pages, marker = [], None
        while True:
            page = catalog.list_entries(self.context, models.Backup, limit=2,
                                        marker=marker,
                                        filters={'server_id': SERVER})
            pages.append([row['id'] for row in page])
            if len(page) < 2:
                break
            marker = page[-1]['id']
        self.assertEqual(ids, sum(pages, []))
        self.assertEqual(6, len(catalog.list_entries(
            self.context, models.Backup, all_projects=True)))

        backup = catalog.update_entry(self.context, models.Backup, ids[0],
                                      {'status': 'available', 'size': 5 << 40},
                                      expected=('creating',))
        self.assertEqual(backup, catalog.get_entry(self.context,
                                                   models.Backup, ids[0]))
        self.assertEqual(['daily'], backup['tags'])
        catalog.delete_entry(self.context, models.Backup, ids[0])
        self.assertEqual(ids[1:], [row['id'] for row in catalog.list_entries(
            self.context, models.Backup)])

    def test_a_page_can_be_read_from_an_index(self):
        for _ in range(3):
            catalog.create_entry(self.context, models.Backup,
                                 {'server_id': SERVER, 'repository_url': 'r'})
        marker = catalog.list_entries(self.context, models.Backup)[0]['id']
        engine = api.get_engine()
        statements = []

        def capture(conn, cursor, statement, parameters, context, many):
            if 'LIMIT' in statement:
                statements.append((statement, parameters))

        sa.event.listen(engine, 'before_cursor_execute', capture)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        capture)
        catalog.list_entries(self.context, models.Backup, limit=2,
                             marker=marker)
        statement, parameters = statements[-1]
        with engine.connect() as conn:
            # a table this small is read whole unless told otherwise
            conn.exec_driver_sql('SET enable_seqscan = off')
            plan = '\n'.join(row[0] for row in conn.exec_driver_sql(
                'EXPLAIN ' + statement, parameters))
        self.assertIn('Index Cond: (((project_id)::text = ', plan)
        self.assertIn('(created_at >= ', plan)
        self.assertNotIn('Sort', plan)


class TrustRaceTestCase(PostgreSQLTestCase):

    def test_racing_creates_share_one_reference(self):
        engine = self.raw_engine()
        results = []
        with engine.connect() as first:
            first.execute(sa.insert(models.TrustReference).values(
                id=str(uuid.uuid4()), trust_id='trust-first',
                user_id='user-a', project_id='project-a',
                created_at=sa.func.now()))
            # the second insert waits on the first's uncommitted row
            racer = threading.Thread(target=lambda: results.append(
                trusts.create_reference(self.context, 'user-a', 'project-a',
                                        'trust-second')))
            racer.start()
            self.wait_for_a_lock_wait(engine)
            first.commit()
        racer.join(10)
        [(ref, created)] = results
        self.assertFalse(created)
        self.assertEqual('trust-first', ref['trust_id'])

    def test_holder_added_while_the_last_is_removed(self):
        ref, _ = trusts.create_reference(self.context, 'user-a', 'project-a',
                                         'trust-1')
        trusts.add_holder(self.context, ref['id'], 'job', 'job-1')
        engine = self.raw_engine()
        results = []
        with engine.connect() as adder:
            # a new holder, not committed yet: it locks the reference
            adder.execute(sa.insert(models.TrustReferenceHolder).values(
                trust_ref_id=ref['id'], holder_type='job', holder_id='job-2',
                created_at=sa.func.now()))
            remover = threading.Thread(target=lambda: results.append(
                trusts.remove_holder(self.context, ref['id'], 'job',
                                     'job-1')))
            remover.start()
            self.wait_for_a_lock_wait(engine)
            adder.commit()
        remover.join(10)
        # the reference is kept for the holder that came meanwhile
        self.assertEqual([None], results)
        self.assertEqual(1, trusts.get_reference(
            self.context, 'user-a', 'project-a')['holders'])
