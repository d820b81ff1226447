"""Exporter ``image``: the root disk through its snapshot image in Glance.

Nova's ``createImage`` of the snapshot set already put the root disk's
bytes into an image; nothing else is created, nothing to clean up.
"""

from taskflow.patterns import linear_flow

from backup_flows import exporters
from backup_flows import keys
from backup_flows.tasks import image as image_tasks


class ImageExporter(exporters.Exporter):
    """Export the root disk of an image-backed server."""

    name = 'image'

    def export_flow(self, disk):
        # The set's root image id is already in the store; only make it
        # available under this disk's export key.
        return linear_flow.Flow('export-%s' % disk['disk']).add(
            image_tasks.WaitForImageActive(
                name='wait-export-image-%s' % disk['disk'],
                rebind={'image_id': keys.ROOT_IMAGE_ID},
                provides=keys.export_image_key(disk['disk'])))
