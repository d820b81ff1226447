"""Exporter ``volume-image``: volume snapshot → temporary volume → image.

Cinder offers no download of a snapshot's bytes; the portable route is a
temporary volume created from the snapshot and uploaded to Glance
("upload to image"). Both temporary resources carry the job id, are adopted
when a resumed task runs again, deleted by the reverts on failure and by
the cleanup sub-flow after the copy.
"""

from taskflow.patterns import linear_flow

from backup_flows import exporters
from backup_flows import keys
from backup_flows import tags
from backup_flows.tasks import image as image_tasks
from backup_flows.tasks import volume as volume_tasks


class VolumeImageExporter(exporters.Exporter):
    """Export a volume (boot or data) through a temporary image."""

    name = 'volume-image'

    def export_flow(self, disk):
        name = disk['disk']
        volume_spec = {'role': tags.ROLE_EXPORT_VOLUME % name,
                       'name': 'backup-flows-export-%s' % name,
                       'size_gb': disk['size_gb']}
        image_spec = {'role': tags.ROLE_EXPORT_IMAGE % name}
        return linear_flow.Flow('export-%s' % name).add(
            volume_tasks.CreateVolume(
                name='create-export-volume-%s' % name,
                provides=keys.export_volume_key(name),
                inject={'spec': volume_spec},
                rebind={'snapshot_id': keys.volume_snapshot_key(
                    disk['volume_id'])}),
            volume_tasks.WaitForVolumeAvailable(
                name='wait-export-volume-%s' % name,
                rebind={'volume_id': keys.export_volume_key(name)}),
            image_tasks.UploadVolumeToImage(
                name='upload-export-volume-%s' % name,
                provides=keys.export_image_key(name),
                inject={'spec': image_spec},
                rebind={'volume_id': keys.export_volume_key(name)}),
            image_tasks.WaitForImageActive(
                name='wait-export-image-%s' % name,
                rebind={'image_id': keys.export_image_key(name)}))

    def cleanup_flow(self, disk):
        name = disk['disk']
        return linear_flow.Flow('cleanup-%s' % name).add(
            image_tasks.DeleteImage(
                name='delete-export-image-%s' % name,
                rebind={'image_id': keys.export_image_key(name)}),
            volume_tasks.DeleteVolume(
                name='delete-export-volume-%s' % name,
                rebind={'volume_id': keys.export_volume_key(name)}))
