"""CLI category ``db``: the schema of the service database."""

from backup_flows.cmd import common


def _migration():
    # Imported when a db command runs: oslo.db and SQLAlchemy take most of
    # a second to import, which no other command should pay.
    from backup_flows.db import migration
    return migration


class DbCommands:
    """The service database ([database] connection): schema upgrades."""

    def sync(self):
        """Upgrade the database schema to the newest version this release
        knows, creating it in an empty database; safe to run again."""
        migration = _migration()
        previous = migration.version()
        migration.upgrade()
        common.print_item({'previous_version': previous,
                           'version': migration.version()})

    def version(self):
        """Show the schema version of the database (none: never synced)
        and the newest this release knows."""
        migration = _migration()
        common.print_item({'version': migration.version(),
                           'head': migration.head()})
