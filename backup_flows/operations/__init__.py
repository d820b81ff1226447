"""Operations: validate, plan, then run a flow as a job (or post it).

The only layer that imports ``backup_flows.engine``; ``cmd`` and ``api``
call it.
"""

from backup_flows import engine


def add_listener_factory(factory):
    """Attach ``factory(engine)``, a TaskFlow listener, to the engine of
    every job this process runs (the CLI's progress lines); returns a
    function that stops it."""
    return engine.add_listener_factory(factory)


def conductor(name):
    """A context manager giving a conductor named ``name`` on the
    configured jobboard, connected for the ``with`` block; it records the
    start and the end of the jobs the API posted in the catalog."""
    # imported here: only the conductor service needs a jobboard client
    # and the service database
    from backup_flows.engine import conductors
    from backup_flows.operations import service_jobs

    return conductors.connected(
        name, on_job_start=service_jobs.record_job_start,
        on_job_end=service_jobs.record_job_end)
