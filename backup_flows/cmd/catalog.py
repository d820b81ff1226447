"""CLI category ``catalog``: the service's backup catalog."""

from backup_flows.cmd import common


class CatalogCommands:
    """The backup catalog of the service database, rebuilt from the
    repositories (the truth of what backups exist)."""

    @common.args('--project-id', dest='project_ids', action='append',
                 metavar='PROJECT_ID', default=[],
                 help='A project whose repository to read (repeat it); '
                      'needed when [repository] url holds {project_id}.')
    @common.args('--dry-run', action='store_true',
                 help='Report what would change; change nothing.')
    def sync(self, project_ids=(), dry_run=False):
        """Add the rows of committed backups the catalog lacks, correct
        the rows that differ from their manifest, remove the rows of
        backups gone from their repository."""
        # imported here: oslo.db and SQLAlchemy only for this command
        from backup_flows.operations import catalog_sync

        report = catalog_sync.sync(project_ids, dry_run=dry_run)
        if common.json_output():
            common.print_item(report)
            return
        rows = [{'change': action, 'backup': backup_id}
                for action in ('added', 'updated', 'removed')
                for backup_id in report[action]]
        rows += [{'change': 'unreadable', 'backup': backup_id,
                  'detail': reason}
                 for backup_id, reason in sorted(report['errors'].items())]
        rows += [{'change': 'no repository', 'detail': missing}
                 for missing in report['missing']]
        common.print_list(rows, ['change', 'backup', 'detail'])
