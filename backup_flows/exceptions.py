"""Exceptions of backup-flows.

Every error a user can cause or fix derives from :class:`BackupFlowsError`.
Its message says what was wrong and what to do; the CLI prints it on one line
and exits with ``exit_code`` (documented in doc/source/cli).
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class BackupFlowsError(Exception):
    """Base of every expected error; ``msg_fmt`` is filled from kwargs.

    ``report``: plain data the failing operation knows beyond the message
    (e.g. a verification's problems); the CLI's JSON error report adds it.
    """

    msg_fmt = 'An unknown error occurred.'
    exit_code = EXIT_FAILED

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        self.report = {}
        if message is None:
            message = self.msg_fmt % kwargs
        super().__init__(message)


class InvalidInput(BackupFlowsError):
    msg_fmt = 'Invalid input: %(reason)s'
    exit_code = EXIT_USAGE


class PolicyNotAuthorized(BackupFlowsError):
    """The policy refused the action; the API answers ``http_status``."""

    msg_fmt = 'Policy does not allow %(action)s to be performed.'
    exit_code = EXIT_USAGE
    http_status = 403


class NotFound(BackupFlowsError):
    msg_fmt = '%(kind)s %(ident)s not found.'
    exit_code = EXIT_USAGE


class ServerNotFound(NotFound):
    msg_fmt = 'Server %(server)s not found in cloud %(cloud)s.'


class InvalidServerState(BackupFlowsError):
    msg_fmt = ('Server %(server)s is in state %(state)s; %(action)s needs '
               'one of: %(expected)s.')
    exit_code = EXIT_USAGE


class CloudConfigError(BackupFlowsError):
    msg_fmt = ('Cloud %(cloud)s is not usable: %(reason)s. Check clouds.yaml '
               'or --os-cloud/OS_CLOUD.')
    exit_code = EXIT_USAGE


class CloudUnreachable(BackupFlowsError):
    msg_fmt = 'Cloud %(cloud)s cannot be reached: %(reason)s'


class PluginError(BackupFlowsError):
    msg_fmt = ('%(kind)s plugin %(name)r cannot be loaded: %(reason)s. '
               'Available: %(available)s.')
    exit_code = EXIT_USAGE


class FlowFailed(BackupFlowsError):
    msg_fmt = ('%(flow)s job %(job_id)s failed and was reverted: '
               '%(reason)s')


class FlowRevertIncomplete(FlowFailed):
    msg_fmt = ('%(flow)s job %(job_id)s failed: %(reason)s; reverting it '
               'left work undone: the revert of %(failed)s failed, and what '
               'it should have removed carries the job id')


class CleanupIncomplete(BackupFlowsError):
    msg_fmt = 'Could not delete %(kind)s %(ids)s'


class JobNotAbortable(BackupFlowsError):
    msg_fmt = 'Job %(job_id)s cannot be aborted: %(reason)s'
    exit_code = EXIT_USAGE


class JobAborted(BackupFlowsError):
    msg_fmt = 'Job %(job_id)s was aborted (job abort)'


class JobInterrupted(BackupFlowsError):
    msg_fmt = ('%(flow)s job %(job_id)s was interrupted; continue it with '
               '"backup-flows-manage job resume %(job_id)s" or revert it '
               'with "backup-flows-manage job abort %(job_id)s"')
    exit_code = 130


class JobNotFound(NotFound):
    msg_fmt = 'Job %(job_id)s not found.'


class JobNotResumable(BackupFlowsError):
    msg_fmt = 'Job %(job_id)s cannot be resumed: %(reason)s'
    exit_code = EXIT_USAGE


class JobTaken(BackupFlowsError):
    msg_fmt = ('Job %(job_id)s is taken: process %(pid)s on %(host)s runs '
               'it')
    exit_code = EXIT_FAILED


class TrustNotAllowed(BackupFlowsError):
    msg_fmt = 'Keystone refused the trust this operation needs: %(reason)s'
    exit_code = EXIT_USAGE


class JobboardUnavailable(BackupFlowsError):
    msg_fmt = ('The jobboard %(board)s (%(backend)s at %(where)s) cannot be '
               'used: %(reason)s. Check the [jobboard] options and that the '
               'server runs')


class JobGaveUp(BackupFlowsError):
    msg_fmt = ('Job %(job_id)s was given up: %(reason)s. Revert it with '
               '"backup-flows-manage job abort %(job_id)s" or remove what it '
               'left with "backup-flows-manage job cleanup"')


class JobNotWaitedFor(BackupFlowsError):
    msg_fmt = ('Stopped waiting for job %(job_id)s; it goes on on the '
               'conductors: "backup-flows-manage job show %(job_id)s" shows '
               'how it ends')
    exit_code = 130


class ResourceTimeout(BackupFlowsError):
    msg_fmt = ('%(kind)s %(ident)s did not reach %(status)s within '
               '%(timeout)s seconds (last status: %(last)s).')


class ResourceFailed(BackupFlowsError):
    msg_fmt = '%(kind)s %(ident)s went to status %(status)s.'


class ConsistencyNotReached(BackupFlowsError):
    msg_fmt = ('Consistency level %(requested)s could not be reached for '
               'server %(server)s: %(reason)s')


class RepositoryError(BackupFlowsError):
    msg_fmt = 'Backup repository %(url)s: %(reason)s'


class RepositoryNotFound(RepositoryError):
    msg_fmt = ('No backup repository at %(url)s. Create one with '
               '"backup-flows-manage repository init %(url)s" or fix '
               '--repository.')
    exit_code = EXIT_USAGE


class RepositoryExists(RepositoryError):
    msg_fmt = 'A backup repository already exists at %(url)s.'
    exit_code = EXIT_USAGE


class ForeignRepository(RepositoryError):
    msg_fmt = ('%(url)s is not a backup-flows repository (%(reason)s). '
               'Check --repository.')
    exit_code = EXIT_USAGE


class RepositoryFormatTooNew(RepositoryError):
    msg_fmt = ('%(what)s at %(url)s has format version %(version)s; this '
               'backup-flows reads up to version %(supported)s. Upgrade '
               'backup-flows.')
    exit_code = EXIT_USAGE


class RepositoryKeyError(RepositoryError):
    msg_fmt = 'Cannot unlock repository %(url)s: %(reason)s'
    exit_code = EXIT_USAGE


class RepositoryLocked(RepositoryError):
    msg_fmt = ('Repository %(url)s is locked (%(reason)s). Retry later; a '
               'lock whose holder died expires after its time to live.')


class RepositoryCorrupted(RepositoryError):
    msg_fmt = ('Repository %(url)s: %(reason)s. Run "backup-flows-manage '
               'repository check --deep" to list the affected backups.')


class BackupNotFound(NotFound):
    msg_fmt = 'Backup %(backup_id)s not found in repository %(url)s.'


class RepositoryBackendError(RepositoryError):
    msg_fmt = 'Storage backend of repository %(url)s failed: %(reason)s'


class BackupDamaged(RepositoryError):
    msg_fmt = ('Backup %(backup_id)s is damaged: disks %(disks)s '
               '(%(details)s).')


class TargetResourceNotFound(NotFound):
    msg_fmt = '%(kind)s %(name)s not found in cloud %(cloud)s; %(hint)s'


class BackupNotRestorable(BackupFlowsError):
    msg_fmt = 'Backup %(backup_id)s cannot be restored: %(reason)s'
    exit_code = EXIT_USAGE


class RestoreFailed(BackupFlowsError):
    msg_fmt = ('Restore of backup %(backup_id)s failed and was reverted '
               '(job %(job_id)s): %(reason)s')


class DrillDisksDiffer(BackupFlowsError):
    msg_fmt = ('the restored disks %(disks)s differ from the backup '
               '(%(details)s)')


class RollbackIncomplete(BackupFlowsError):
    msg_fmt = ('Rollback of server %(server)s to snapshot set %(set_id)s '
               'failed (job %(job_id)s: %(reason)s) after it changed the '
               'server: %(changed)s. To return to the state before the '
               'rollback, run "backup-flows-manage snapshot rollback '
               '%(safety_set_id)s --yes --no-safety-snapshot" (the safety '
               'set taken before it); to finish the rollback instead, run it '
               'again.')


class RollbackIncompleteWithoutSafety(RollbackIncomplete):
    msg_fmt = ('Rollback of server %(server)s to snapshot set %(set_id)s '
               'failed (job %(job_id)s: %(reason)s) after it changed the '
               'server: %(changed)s. No safety set was taken '
               '(--no-safety-snapshot), so the state before the rollback is '
               'gone; finish the rollback with "backup-flows-manage snapshot '
               'rollback %(set_id)s --yes".')


class RootCaptureFailed(BackupFlowsError):
    msg_fmt = ('Nova failed to capture the root disk of server %(server)s '
               'and deleted image %(image)s. An image that requires '
               'quiescing (os_require_quiesce=yes) fails the snapshot when '
               'the guest agent does not freeze the filesystems; see '
               '`openstack server event list %(server)s`.')


class SafetySetFailed(BackupFlowsError):
    msg_fmt = ('The safety set of server %(server)s could not be taken, so '
               'nothing was rolled back: %(reason)s')


class DatabaseError(BackupFlowsError):
    msg_fmt = ('The service database %(url)s cannot be used: %(reason)s. '
               'Check [database] connection.')


class CatalogEntryNotFound(NotFound):
    msg_fmt = '%(kind)s %(ident)s not found.'


class CatalogEntryExists(BackupFlowsError):
    msg_fmt = '%(kind)s %(ident)s already exists.'
    exit_code = EXIT_USAGE


class CatalogStatusConflict(BackupFlowsError):
    msg_fmt = ('%(kind)s %(ident)s is %(status)s; this needs one of: '
               '%(expected)s.')
    exit_code = EXIT_USAGE


class InvalidMarker(InvalidInput):
    msg_fmt = ('Invalid marker %(marker)s: no %(kind)s with this id in this '
               'listing; give the id of the last item of the previous page.')


class TrustReferenceNotFound(NotFound):
    msg_fmt = ('Trust reference %(ref_id)s not found: its last holder '
               'released it; get or create the reference again.')
