"""Tests of the service database, each on a SQLite file of its own."""

import os

import fixtures
from oslo_config import fixture as config_fixture
from oslo_context import context as oslo_context
import testtools

from backup_flows import conf as bf_conf


def request_context(project_id='project-a', user_id='user-a'):
    """A request context of ``user_id`` in ``project_id``."""
    return oslo_context.RequestContext(project_id=project_id,
                                       user_id=user_id)


class DatabaseTestCase(testtools.TestCase):
    """A test with ``[database] connection`` on a new SQLite file;
    ``migrate`` (the default) creates the schema."""

    migrate = True

    def setUp(self):
        super().setUp()
        from backup_flows.db import migration

        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = self.useFixture(config_fixture.Config(bf_conf.CONF))
        self.url = 'sqlite:///' + os.path.join(self.tmp, 'db',
                                               'backup-flows.sqlite')
        self.conf.config(connection=self.url, group='database')
        self.conf.config(state_path=self.tmp)
        if self.migrate:
            migration.upgrade()
        self.context = request_context()
