"""Expire flow: delete every snapshot set past its expiry time.

Shape: one snapshot-delete sub-flow per set, one set after the other (see
:func:`backup_flows.flows.snapshot.get_delete_flow`)::

    delete-set-<set id>: mark-set-deleting-<set id>
        → delete-image-<id>, delete-volume-snapshot-<id> (side by side)

Store (plain data): ``cloud``. A set whose deletion fails is marked
available again (sets deleted before it stay deleted); ``job resume``
finishes an interrupted expiry.
"""

from taskflow.patterns import linear_flow

from backup_flows import keys
from backup_flows.flows import snapshot as snapshot_flow


def get_flow(sets):
    """Flow deleting ``sets``: ``[{'set_id', 'image_ids',
    'snapshot_ids'}]`` (the expired sets and their members, as planned)."""
    flow = linear_flow.Flow(keys.FLOW_SNAPSHOT_EXPIRE)
    for snapshot_set in sets:
        flow.add(snapshot_flow.get_delete_flow(
            snapshot_set['image_ids'], snapshot_set['snapshot_ids'],
            set_id=snapshot_set['set_id']))
    return flow
