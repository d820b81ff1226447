"""Exporters: how a captured disk's bytes leave the cloud.

An exporter turns one member of the backup's transient snapshot set into a
Glance image whose bytes are the disk's, so that one task
(:class:`backup_flows.tasks.repository.WriteDiskToRepository`) can stream
any disk into the repository the same way. It contributes two sub-flows:

* :meth:`Exporter.export_flow` provides the store key
  :func:`image_key` ``(disk)`` holding the id of that image;
* :meth:`Exporter.cleanup_flow` removes what the export created once the
  bytes are in the repository (the members of the snapshot set themselves
  are deleted with the set).

Both are built from plain data (``disk`` is an entry of the server
definition's ``disks`` list plus the snapshot set's member ids), so a
conductor elsewhere can rebuild them.
"""

import abc

from taskflow.patterns import linear_flow


class Exporter(metaclass=abc.ABCMeta):
    """Base class of the ``backup_flows.exporters`` plugins."""

    name = None

    @abc.abstractmethod
    def export_flow(self, disk):
        """Sub-flow providing :func:`image_key` ``(disk)``."""

    def cleanup_flow(self, disk):
        """Sub-flow deleting the export's temporary resources."""
        return linear_flow.Flow('cleanup-%s' % disk['disk'])
