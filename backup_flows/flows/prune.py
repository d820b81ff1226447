"""Prune flow: retention policy, then garbage collection.

Shape::

    prune-repository (under the repository's exclusive lock: forget what
        the policy gives up, then collect unused data in two phases, see
        backup_flows.repository.prune)

Store (plain data): ``repository_url``. The flow provides ``result``,
prune's report.
"""

from taskflow.patterns import linear_flow

from backup_flows import keys
from backup_flows.tasks import backup as backup_tasks


def get_flow(policy, server_id=None, dry_run=False):
    """Flow pruning a repository.

    :param policy: retention counts, ``{'keep_last', 'hourly', 'daily',
        'weekly', 'monthly', 'yearly'}``.
    :param server_id: apply the policy to this server's backups only.
    :param dry_run: only report what would be forgotten and freed.
    """
    return linear_flow.Flow(keys.FLOW_BACKUP_PRUNE).add(
        backup_tasks.PruneRepository(
            name='prune-repository',
            inject={'policy': dict(policy), 'server_id': server_id,
                    'dry_run': bool(dry_run)}))
