"""The base class of optional components."""

from tools.minicloud import render


class Component:
    """An optional piece of the cloud, started by ``start --with NAME``.

    A component declares its ``name``, the services it adds
    (``service_names`` and ``services``), a configure step, a readiness
    wait and a resources step. The core calls them in that order, after
    its own steps of the same kind: on a fresh start, configure runs once
    the core's files are written and before anything starts; on a running
    cloud, the services configure names are restarted before the
    component's own services start.
    """

    #: short name used by --with and MINICLOUD_WITH
    name = None
    #: names of the services it adds (known without Settings)
    service_names = ()
    #: running services to restart once configured (they read its config)
    restarts = ()

    def services(self, s):
        """{name: services.Service} of the services it adds."""
        return {}

    def values(self, s, state):
        """The placeholder values of its templates: the core's by default."""
        return render.values(s, state['secrets']['service'])

    def configure(self, s, state):
        """Write its configuration; return the services to restart.

        The default renders templates/components/<name>/ with ``values``:
        new files are written, options in files the core wrote are set in
        place.
        """
        render.render_component(s, self.name, self.values(s, state))
        return list(self.restarts)

    def wait_ready(self, s, state):
        """Wait until it is really usable (its services answered already)."""

    def resources(self, s, state):
        """Callables creating its cloud resources (run in parallel)."""
        return []
