"""Exporter ``volume-image``: volume snapshot → temporary volume → image.

Cinder offers no download of a snapshot's bytes; the portable route is a
temporary volume created from the snapshot and uploaded to Glance
("upload to image"). Both temporary resources carry the job id, are adopted
when a resumed task runs again, deleted by the reverts on failure and by
the cleanup sub-flow after the copy.
"""

from taskflow.patterns import linear_flow

from backup_flows import exporters
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import volume as volume_tasks


def snapshot_key(disk):
    """Store key of the id of the set's snapshot of ``disk``'s volume
    (provided by the snapshot flow)."""
    return 'volume_snapshot_%s' % disk['volume_id']


def _volume_key(disk):
    return 'export_volume_%s' % disk['disk']


class VolumeImageExporter(exporters.Exporter):
    """Export a volume (boot or data) through a temporary image."""

    name = 'volume-image'

    def export_flow(self, disk):
        name = disk['disk']
        volume_spec = {'role': 'export-volume-%s' % name,
                       'name': 'backup-flows-export-%s' % name,
                       'size_gb': disk['size_gb']}
        image_spec = {'role': 'export-image-%s' % name}
        return linear_flow.Flow('export-%s' % name).add(
            volume_tasks.CreateVolume(
                name='create-export-volume-%s' % name,
                provides=_volume_key(disk),
                inject={'spec': volume_spec},
                rebind={'snapshot_id': snapshot_key(disk)}),
            volume_tasks.WaitForVolumeAvailable(
                name='wait-export-volume-%s' % name,
                rebind={'volume_id': _volume_key(disk)}),
            image_tasks.UploadVolumeToImage(
                name='upload-export-volume-%s' % name,
                provides=exporters.image_key(disk),
                inject={'spec': image_spec},
                rebind={'volume_id': _volume_key(disk)}),
            image_tasks.WaitForImageActive(
                name='wait-export-image-%s' % name,
                rebind={'image_id': exporters.image_key(disk)}))

    def cleanup_flow(self, disk):
        name = disk['disk']
        return linear_flow.Flow('cleanup-%s' % name).add(
            image_tasks.DeleteImage(
                name='delete-export-image-%s' % name,
                rebind={'image_id': exporters.image_key(disk)}),
            volume_tasks.DeleteVolume(
                name='delete-export-volume-%s' % name,
                rebind={'volume_id': _volume_key(disk)}))
