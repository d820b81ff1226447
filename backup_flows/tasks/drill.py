"""Tasks of a restore drill: compare the restored disks with the backup.

A drill reads each disk of its throw-away server back through the cloud
into a Glance image (see backup_flows.flows.drill); these tasks read those
images and judge them. They only read: what the drill created is deleted by
the tasks that created it (their reverts) and by the drill's clean-up.
"""

import hashlib

from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import exceptions
from backup_flows import keys
from backup_flows.tasks import base

LOG = logging.getLogger(__name__)

_READ_SIZE = 4 << 20


def read_back(chunks, size):
    """``{'size', 'checksum'}`` of a disk read back as ``chunks`` (bytes),
    as backed up.

    A restored volume is a whole number of GiB and a root disk as large as
    the flavor's: a disk larger than the backed-up one holds its bytes
    followed by zeros. Its checksum is then the one of its first ``size``
    bytes, and its size the backed-up one when the rest is zeros.
    """
    digest = hashlib.sha256()
    pos = 0
    tail_zero = True
    for data in chunks:
        head = data[:max(0, size - pos)]
        digest.update(head)
        tail = len(data) - len(head)
        if tail and tail_zero and data[len(head):].count(0) != tail:
            tail_zero = False
        pos += len(data)
    return {'size': size if pos >= size and tail_zero else pos,
            'checksum': 'sha256:%s' % digest.hexdigest()}


class CompareDiskWithBackup(base.BackupFlowsTask):
    """Read a restored disk back from its image; compare it with the backup.

    ``disk`` (injected): ``{'disk', 'size', 'sha256'}`` as the backup's
    manifest holds it; ``image_id``: the image the disk was read back
    into. Returns ``{'name', 'expected': {'size', 'checksum'}, 'actual':
    {'name', 'size', 'checksum'}, 'ok'}``; a difference is reported, not
    raised (:class:`CheckDrillDisks` judges them all).

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, cloud, disk, image_id):
        conn = clients.connect(cloud)
        response = conn.image.download_image(image_id, stream=True)
        try:
            # openstacksdk does not check a streamed answer's status
            sdk_exc.raise_from_response(response)
            actual = read_back(response.iter_content(chunk_size=_READ_SIZE),
                               disk['size'])
        finally:
            response.close()
        expected = {'size': disk['size'],
                    'checksum': 'sha256:%s' % disk['sha256']}
        ok = actual == expected
        LOG.info('Drill: disk %s read back from image %s %s the backup',
                 disk['disk'], image_id, 'matches' if ok else 'differs from')
        return {'name': disk['disk'], 'expected': expected,
                'actual': dict(actual, name=disk['disk']), 'ok': ok}


def _describe(state):
    if state is None:
        return 'no such disk'
    return '%s bytes, %s' % (state['size'], state['checksum'])


class CheckDrillDisks(base.BackupFlowsTask):
    """Fail the drill when a restored disk differs from the backup.

    ``disk_order`` (injected) names the disks; their comparisons are the
    store entries :func:`keys.compared_key` ``(disk)``. Returns the comparisons
    in that order.

    Reversion strategy: nothing to undo (reads only).
    """

    def execute(self, disk_order, **compared):
        disks = [compared[keys.compared_key(name)] for name in disk_order]
        bad = [disk for disk in disks if not disk['ok']]
        if bad:
            raise exceptions.DrillDisksDiffer(
                disks=', '.join(disk['name'] for disk in bad),
                details='; '.join('%s: expected %s, got %s' % (
                    disk['name'], _describe(disk['expected']),
                    _describe(disk['actual'])) for disk in bad))
        return disks


class ReportDrill(base.BackupFlowsTask):
    """Hand the drill's outcome to its caller, once it cleaned up.

    Returns ``{'server_id', 'disks': [comparison], 'cleaned_up': True}``.

    Reversion strategy: nothing to undo (reads only).
    """

    default_provides = keys.RESULT

    def execute(self, server_id, drill_disks):
        return {'server_id': server_id, 'disks': drill_disks,
                'cleaned_up': True}
