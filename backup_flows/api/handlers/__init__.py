"""Handlers of the API: one module per resource.

A handler is a module-level function taking a ``webob.Request`` and
returning a response, decorated with ``util.wsgify`` (and, where it
applies, ``microversion.version_handler``, ``util.require_content``).
``backup_flows.api.handler.ROUTE_DECLARATIONS`` maps paths and methods to
them.
"""
