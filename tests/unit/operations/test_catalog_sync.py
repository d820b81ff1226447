"""``catalog sync``: the catalog rebuilt from a repository's manifests."""

from backup_flows import exceptions
from backup_flows.db import catalog
from backup_flows.db import models
from backup_flows.operations import catalog_sync
from backup_flows.operations import service_jobs

from tests.unit import db as db_base
from tests.unit.repository import base as repo_base


class CatalogSyncTestCase(db_base.DatabaseTestCase,
                          repo_base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo()
        self.conf.config(url='file://' + self.path(), group='repository')
        self.admin = service_jobs.service_context()

    def add(self, server, project='project-a'):
        return self.backup(self.repo, {'vda': b'x' * 5000}, server=server,
                           metadata={'source': {'project_id': project},
                                     'consistency': 'crash', 'tags': ['t']})

    def rows(self):
        return {row['id']: row for row in catalog.list_entries(
            self.admin, models.Backup, all_projects=True)}

    def test_a_lost_catalog_gets_every_backup_back(self):
        first = self.add('server-1')
        second = self.add('server-2', project='project-b')

        report = catalog_sync.sync()

        self.assertEqual(sorted([first, second]), sorted(report['added']))
        rows = self.rows()
        self.assertEqual(('available', 'project-a', 'server-1', 5000, 1,
                          ['t']),
                         tuple(rows[first][key] for key in (
                             'status', 'project_id', 'server_id', 'size',
                             'disk_count', 'tags')))
        self.assertEqual('project-b', rows[second]['project_id'])
        # a second run changes nothing
        again = catalog_sync.sync()
        self.assertEqual(([], [], []), (again['added'], again['updated'],
                                        again['removed']))

    def test_rows_of_forgotten_backups_go_creating_ones_stay(self):
        kept, gone = self.add('server-1'), self.add('server-2')
        catalog_sync.sync()
        catalog.create_entry(self.context, models.Backup, {
            'id': 'being-made', 'server_id': 's', 'job_id': 'j',
            'repository_url': self.repo.url})
        self.repo.forget([gone])

        dry = catalog_sync.sync(dry_run=True)
        self.assertEqual([gone], dry['removed'])
        self.assertIn(gone, self.rows())

        report = catalog_sync.sync()
        self.assertEqual([gone], report['removed'])
        self.assertEqual({kept, 'being-made'}, set(self.rows()))

    def test_a_row_that_differs_is_corrected(self):
        backup_id = self.add('server-1')
        catalog_sync.sync()
        catalog.update_entry(self.admin, models.Backup, backup_id,
                             {'status': 'error', 'size': 1},
                             all_projects=True)
        self.assertEqual([backup_id], catalog_sync.sync()['updated'])
        self.assertEqual(('available', 5000),
                         (self.rows()[backup_id]['status'],
                          self.rows()[backup_id]['size']))

    def test_per_project_repositories_need_their_projects(self):
        self.add('server-1', project='recorded-elsewhere')
        self.conf.config(url='file://' + self.path('{project_id}'),
                         group='repository')
        self.assertRaises(exceptions.InvalidInput, catalog_sync.sync)
        report = catalog_sync.sync(['repo', 'nowhere'])
        self.assertEqual(1, len(report['added']))
        self.assertEqual(['nowhere'], report['missing'])
        row = list(self.rows().values())[0]
        self.assertEqual('repo', row['project_id'])
