"""Catalog queries: CRUD of every table, project isolation, paging."""

import datetime

import sqlalchemy as sa

from backup_flows import exceptions
from backup_flows.db import api
from backup_flows.db import catalog
from backup_flows.db import models

from tests.unit import db as db_base

SERVER = 'c0ffee00-0000-4000-8000-000000000001'
OTHER_SERVER = 'c0ffee00-0000-4000-8000-000000000002'

# The columns a new row of each model needs, and a change to make to it.
SAMPLES = {
    models.Snapshot: ({'server_id': SERVER, 'name': 'before-upgrade',
                       'quiesce': 'pause'},
                      {'status': 'available',
                       'consistency': 'crash-consistent-set'}),
    models.Backup: ({'server_id': SERVER, 'repository_url': 'file:///r',
                     'tags': ['daily', 'web']},
                    {'status': 'available', 'size': 1 << 40,
                     'disk_count': 3}),
    models.Restore: ({'backup_id': '20261125T100524.112599Z-4818c8cc'},
                     {'status': 'available', 'server_id': OTHER_SERVER}),
    models.Job: ({'flow': 'backup-create', 'state': 'PENDING',
                  'resource_type': 'backup', 'resource_id': 'b-1'},
                 {'state': 'SUCCESS', 'attempts': 1}),
}


class CrudTestCase(db_base.DatabaseTestCase):

    def test_round_trip_of_every_table(self):
        for model, (values, change) in SAMPLES.items():
            created = catalog.create_entry(self.context, model, values)
            self.assertEqual('project-a', created['project_id'])
            self.assertEqual('user-a', created['user_id'])
            self.assertIsNotNone(created['created_at'])
            self.assertIsNone(created['updated_at'])
            if model.INITIAL_STATUS:
                self.assertEqual(model.INITIAL_STATUS, created['status'])
            self.assertEqual(created, catalog.get_entry(
                self.context, model, created['id']))

            updated = catalog.update_entry(self.context, model,
                                           created['id'], change)
            self.assertEqual(dict(created, **change),
                             dict(updated, updated_at=None))
            self.assertIsNotNone(updated['updated_at'])

            catalog.delete_entry(self.context, model, created['id'])
            self.assertRaises(exceptions.CatalogEntryNotFound,
                              catalog.get_entry, self.context, model,
                              created['id'])

    def test_json_tags_and_defaults(self):
        backup = catalog.create_entry(
            self.context, models.Backup,
            {'id': 'b-1', 'server_id': SERVER, 'repository_url': 'file:///r'})
        self.assertEqual([], backup['tags'])
        backup = catalog.update_entry(self.context, models.Backup, 'b-1',
                                      {'tags': ['a', 'b']})
        self.assertEqual(['a', 'b'], catalog.get_entry(
            self.context, models.Backup, 'b-1')['tags'])
        job = catalog.create_entry(self.context, models.Job,
                                   {'flow': 'snapshot-create',
                                    'state': 'RUNNING'})
        self.assertEqual(0, job['attempts'])

    def test_used_id_is_refused(self):
        values = dict(SAMPLES[models.Snapshot][0], id='s-1')
        catalog.create_entry(self.context, models.Snapshot, values)
        error = self.assertRaises(exceptions.CatalogEntryExists,
                                  catalog.create_entry, self.context,
                                  models.Snapshot, values)
        self.assertEqual('Snapshot s-1 already exists.', str(error))

    def test_unknown_id_is_not_found(self):
        error = self.assertRaises(exceptions.CatalogEntryNotFound,
                                  catalog.update_entry, self.context,
                                  models.Backup, 'nope', {'name': 'x'})
        self.assertEqual('Backup nope not found.', str(error))
        self.assertRaises(exceptions.CatalogEntryNotFound,
                          catalog.delete_entry, self.context,
                          models.Backup, 'nope')

    def test_status_compare_and_swap(self):
        backup = catalog.create_entry(self.context, models.Backup,
                                      SAMPLES[models.Backup][0])
        ident = backup['id']
        # still creating: the changes are refused and nothing changes
        error = self.assertRaises(
            exceptions.CatalogStatusConflict, catalog.update_entry,
            self.context, models.Backup, ident, {'status': 'deleting'},
            expected=('available', 'error'))
        self.assertIn('is creating; this needs one of: available, error',
                      str(error))
        self.assertRaises(exceptions.CatalogStatusConflict,
                          catalog.delete_entry, self.context, models.Backup,
                          ident, expected=('deleting',))
        self.assertEqual('creating', catalog.get_entry(
            self.context, models.Backup, ident)['status'])

        catalog.update_entry(self.context, models.Backup, ident,
                             {'status': 'available'}, expected=('creating',))
        catalog.update_entry(self.context, models.Backup, ident,
                             {'status': 'deleting'},
                             expected=('available', 'error'))
        catalog.delete_entry(self.context, models.Backup, ident,
                             expected=('deleting',))
        self.assertRaises(exceptions.CatalogEntryNotFound,
                          catalog.get_entry, self.context, models.Backup,
                          ident)

    def test_job_state_compare_and_swap(self):
        job = catalog.create_entry(self.context, models.Job,
                                   SAMPLES[models.Job][0])
        catalog.update_entry(self.context, models.Job, job['id'],
                             {'state': 'RUNNING'}, expected=('PENDING',))
        self.assertRaises(exceptions.CatalogStatusConflict,
                          catalog.update_entry, self.context, models.Job,
                          job['id'], {'state': 'RUNNING'},
                          expected=('PENDING',))

    def test_programming_errors(self):
        snapshot = catalog.create_entry(self.context, models.Snapshot,
                                        SAMPLES[models.Snapshot][0])
        self.assertRaises(ValueError, catalog.update_entry, self.context,
                          models.Snapshot, snapshot['id'],
                          {'project_id': 'project-b'})
        self.assertRaises(ValueError, catalog.update_entry, self.context,
                          models.Snapshot, snapshot['id'],
                          {'status': 'restoring'})
        self.assertRaises(ValueError, catalog.create_entry, self.context,
                          models.Restore,
                          dict(SAMPLES[models.Restore][0], status='deleting'))


class IsolationTestCase(db_base.DatabaseTestCase):

    def setUp(self):
        super().setUp()
        self.other = db_base.request_context('project-b', 'user-b')
        self.mine = catalog.create_entry(self.context, models.Backup,
                                         SAMPLES[models.Backup][0])
        self.theirs = catalog.create_entry(self.other, models.Backup,
                                           SAMPLES[models.Backup][0])

    def test_another_projects_row_is_not_found(self):
        ident = self.theirs['id']
        self.assertRaises(exceptions.CatalogEntryNotFound,
                          catalog.get_entry, self.context, models.Backup,
                          ident)
        self.assertRaises(exceptions.CatalogEntryNotFound,
                          catalog.update_entry, self.context, models.Backup,
                          ident, {'name': 'mine now'})
        self.assertRaises(exceptions.CatalogEntryNotFound,
                          catalog.delete_entry, self.context, models.Backup,
                          ident)
        self.assertIsNone(catalog.get_entry(self.other, models.Backup,
                                            ident)['name'])

    def test_listing_shows_only_the_own_project(self):
        self.assertEqual([self.mine['id']], [
            row['id'] for row in catalog.list_entries(self.context,
                                                      models.Backup)])
        self.assertEqual([self.theirs['id']], [
            row['id'] for row in catalog.list_entries(self.other,
                                                      models.Backup)])

    def test_all_projects(self):
        rows = catalog.list_entries(self.context, models.Backup,
                                    all_projects=True)
        self.assertEqual({self.mine['id'], self.theirs['id']},
                         {row['id'] for row in rows})
        catalog.update_entry(self.context, models.Backup, self.theirs['id'],
                             {'status': 'error'}, all_projects=True)
        self.assertEqual('error', catalog.get_entry(
            self.other, models.Backup, self.theirs['id'])['status'])

    def test_marker_of_another_project_is_invalid(self):
        error = self.assertRaises(
            exceptions.InvalidMarker, catalog.list_entries, self.context,
            models.Backup, marker=self.theirs['id'])
        self.assertIn('Invalid marker %s: no backup with this id'
                      % self.theirs['id'], str(error))
        self.assertEqual(exceptions.EXIT_USAGE, error.exit_code)


class PagingTestCase(db_base.DatabaseTestCase):

    def setUp(self):
        super().setUp()
        start = datetime.datetime(2026, 11, 25, 9, 0, 0)
        self.ids = []
        # two rows per instant: the id breaks the tie
        for n in range(9):
            values = dict(SAMPLES[models.Backup][0], id='b-%d' % (8 - n),
                          created_at=start + datetime.timedelta(
                              seconds=n // 2),
                          server_id=SERVER if n % 3 else OTHER_SERVER,
                          status='available' if n % 2 else 'creating')
            catalog.create_entry(self.context, models.Backup, values)
        self.rows = sorted(
            catalog.list_entries(self.context, models.Backup),
            key=lambda row: (row['created_at'], row['id']))

    def pages(self, limit, **kwargs):
        pages, marker = [], None
        while True:
            page = catalog.list_entries(self.context, models.Backup,
                                        limit=limit, marker=marker, **kwargs)
            pages.append([row['id'] for row in page])
            if len(page) < limit:
                return pages
            marker = page[-1]['id']

    def test_listing_order(self):
        self.assertEqual([row['id'] for row in self.rows], [
            row['id'] for row in catalog.list_entries(self.context,
                                                      models.Backup)])
        self.assertEqual('b-7', self.rows[0]['id'])  # b-8 has its instant

    def test_pages_cover_every_row_once(self):
        ids = [row['id'] for row in self.rows]
        pages = self.pages(2)
        self.assertEqual([ids[0:2], ids[2:4], ids[4:6], ids[6:8], ids[8:]],
                         pages)
        backwards = self.pages(4, sort_dir='desc')
        self.assertEqual(ids[::-1], sum(backwards, []))

    def test_filters_with_paging(self):
        expected = [row['id'] for row in self.rows
                    if row['server_id'] == SERVER
                    and row['status'] == 'available']
        pages = self.pages(1, filters={'server_id': SERVER,
                                       'status': 'available'})
        self.assertEqual(expected, sum(pages, []))
        self.assertEqual(3, len(expected))

    def test_bad_listing_input(self):
        for kwargs, fragment in [
                ({'filters': {'name': 'x'}}, 'cannot filter on name'),
                ({'filters': {'status': 'restoring'}},
                 "'restoring' is not one of"),
                ({'limit': 0}, 'limit 0 is not a whole number'),
                ({'sort_dir': 'up'}, "'up' is not one of: asc, desc"),
                ({'marker': 'b-99'}, 'Invalid marker b-99')]:
            error = self.assertRaises(exceptions.InvalidInput,
                                      catalog.list_entries, self.context,
                                      models.Backup, **kwargs)
            self.assertIn(fragment, str(error))

    def test_a_page_is_read_from_an_index(self):
        statements = []

        def capture(conn, cursor, statement, parameters, context, many):
            if statement.startswith('SELECT') and 'LIMIT' in statement:
                statements.append((statement, parameters))

        engine = api.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', capture)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        capture)
        for filters in ({}, {'server_id': SERVER}, {'status': 'creating'}):
            catalog.list_entries(self.context, models.Backup, limit=2,
                                 marker=self.rows[3]['id'], filters=filters)
        self.assertEqual(3, len(statements))
        with engine.connect() as conn:
            for statement, parameters in statements:
                plan = ' '.join(row[-1] for row in conn.exec_driver_sql(
                    'EXPLAIN QUERY PLAN ' + statement, parameters))
                # a range search starting at the marker, in index order
                self.assertRegex(plan, r'^SEARCH backups USING INDEX '
                                       r'backups_\w+ \(.*created_at>\?\)$')
                self.assertNotIn('TEMP B-TREE', plan)
