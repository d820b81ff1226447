"""CLI categories ``job`` and ``flow``."""

from backup_flows import exceptions
from backup_flows import keys
from backup_flows import plugins
from backup_flows.cmd import backup
from backup_flows.cmd import common
from backup_flows.cmd import restore
from backup_flows.cmd import snapshot
from backup_flows.cmd.common import args
from backup_flows.operations import cleanup as cleanup_op
from backup_flows.operations import jobs

# How the command that starts a flow prints its result; the others print
# it as one item.
_PRINTERS = {
    keys.FLOW_BACKUP_CREATE: backup.print_created,
    keys.FLOW_RESTORE: restore.print_restored,
    keys.FLOW_SNAPSHOT_CREATE: snapshot.print_set,
    keys.FLOW_SNAPSHOT_EXPIRE: snapshot.print_expired,
}


def print_job_result(flow, result):
    """Print a resumed job's result as the command that started it
    does."""
    _PRINTERS.get(flow, common.print_item)(result)


class JobCommands:
    """Flow runs (jobs): list, show, resume, abort and clean up after them."""

    def list(self):
        """List every job, oldest first."""
        common.print_list(jobs.list_jobs(),
                          ['id', 'flow', 'state', 'created_at',
                           'updated_at'])

    @args('job_id', metavar='JOB_ID', help='Job id.')
    def show(self, job_id):
        """Show one job: its flow, arguments, state and each task's state."""
        common.print_item(jobs.show(job_id))

    @args('job_id', metavar='JOB_ID', help='Job id.')
    def resume(self, job_id):
        """Resume an interrupted job from its persisted state; print its
        result as the command that started it does."""
        print_job_result(*jobs.resume(job_id))

    @args('job_id', metavar='JOB_ID', help='Job id.')
    def abort(self, job_id):
        """Revert an interrupted job: the server back to its prior power
        state, every resource the job created deleted."""
        job = jobs.abort(job_id)
        common.print_item({key: job[key] for key in
                           ('id', 'flow', 'state', 'failed_reverts')})

    @args('--older-than', dest='older_than', metavar='DURATION',
          help='Only jobs that ended at least this long ago (e.g. 1h, 7d).')
    @args('--dry-run', dest='dry_run', action='store_true', default=False,
          help='List what would be deleted; delete nothing.')
    def cleanup(self, older_than=None, dry_run=False):
        """Delete what finished jobs left in the cloud (found by the job
        id it carries), keeping what a job legitimately made: a snapshot
        set, a restored server."""
        rows = cleanup_op.cleanup(older_than=older_than, dry_run=dry_run)
        common.print_list(rows, ['kind', 'id', 'job_id', 'flow', 'result'])
        if any(row['result'].startswith('not deleted') for row in rows):
            return exceptions.EXIT_FAILED

    @args('--older-than', dest='older_than', metavar='DAYS', required=True,
          help='Purge jobs that ended at least DAYS days ago (a whole '
               'number >= 1).')
    @args('--dry-run', dest='dry_run', action='store_true', default=False,
          help='Count what would be purged; purge nothing.')
    def purge(self, older_than, dry_run=False):
        """Delete the records of old finished jobs from the flow database.

        Only jobs that succeeded or were reverted cleanly are purged; old
        jobs still interrupted, or whose revert or cleanup failed (``job
        cleanup`` needs their record), are kept and listed.
        """
        days, purged, kept = jobs.purge(older_than, dry_run=dry_run)
        if common.json_output():
            common.print_item({'purged': purged, 'dry_run': dry_run,
                               'kept': kept})
            return
        if kept:
            common.print_list(kept, ['id', 'flow', 'state', 'updated_at',
                                     'result'])
        print('%s %d jobs that ended more than %d days ago; kept %d'
              % ('Would purge' if dry_run else 'Purged', purged, days,
                 len(kept)))


class FlowCommands:
    """Flows this installation can run."""

    def list(self):
        """List the installed flow plugins."""
        common.print_list([{'name': name} for name in
                           plugins.available(plugins.FLOWS)], ['name'])
