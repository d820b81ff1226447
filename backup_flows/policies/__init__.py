"""Policy rules of backup-flows in code, one module per API resource.

Rule names are ``server-protection:<collection>:<action>``: the collection
as in its URL (``/v1/<collection>``, named after the service type),
the action ``create``, ``list``, ``show``, ``delete`` or the name of the
action's own URL (``rollback``, ``verify``, ``abort``).
``server-protection:<collection>:list:all_projects`` is checked in addition
to ``...:list`` when a request lists every project (``all_projects=1``).
The base rules they are built from (:mod:`backup_flows.policies.base`)
have short names without the prefix.

:func:`list_rules` is the ``oslo.policy.policies`` entry point (namespace
``backup_flows``) that oslopolicy-sample-generator reads.
"""

import itertools

from backup_flows.policies import backups
from backup_flows.policies import base
from backup_flows.policies import jobs
from backup_flows.policies import restores
from backup_flows.policies import snapshots


def list_rules():
    """Return every rule of backup-flows: the base rules first."""
    return list(itertools.chain(
        base.list_rules(),
        snapshots.list_rules(),
        backups.list_rules(),
        restores.list_rules(),
        jobs.list_rules(),
    ))
