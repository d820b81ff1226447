"""Loads backup-flows plugins through stevedore: one function per kind."""

from oslo_log import log as logging
from stevedore import driver
from stevedore import exception as stevedore_exc
from stevedore import extension

from backup_flows import exceptions

LOG = logging.getLogger(__name__)

FLOWS = 'backup_flows.flows'
QUIESCE = 'backup_flows.quiesce'
EXPORTERS = 'backup_flows.exporters'
STORAGE = 'backup_flows.storage'
JOBBOARDS = 'backup_flows.jobboards'

_KINDS = {FLOWS: 'Flow', QUIESCE: 'Quiesce', EXPORTERS: 'Exporter',
          STORAGE: 'Storage', JOBBOARDS: 'Jobboard'}


def available(namespace):
    """Sorted short names of the plugins installed in ``namespace``."""
    mgr = extension.ExtensionManager(namespace, invoke_on_load=False)
    return sorted(mgr.names())


def load(namespace, name, invoke_args=(), invoke_kwds=None,
         invoke_on_load=False):
    """Load one plugin by short name, with a clear error when it fails."""
    try:
        mgr = driver.DriverManager(
            namespace, name, invoke_on_load=invoke_on_load,
            invoke_args=tuple(invoke_args), invoke_kwds=invoke_kwds or {},
            on_load_failure_callback=_reraise)
    except stevedore_exc.NoMatches:
        raise exceptions.PluginError(
            kind=_KINDS.get(namespace, namespace), name=name,
            reason='no such plugin is installed',
            available=', '.join(available(namespace)) or '(none installed)')
    except exceptions.BackupFlowsError:
        raise
    except Exception as exc:
        LOG.debug('Loading %s plugin %s failed', namespace, name,
                  exc_info=True)
        raise exceptions.PluginError(
            kind=_KINDS.get(namespace, namespace), name=name,
            reason='%s: %s' % (type(exc).__name__, exc),
            available=', '.join(available(namespace)) or '(none installed)')
    return mgr.driver


def _reraise(manager, entrypoint, exc):
    raise exc


def load_flow_factory(name):
    """Return the ``get_flow`` factory of the flow plugin ``name``."""
    return load(FLOWS, name)


def load_quiesce(name):
    """Return an instance of the quiesce strategy ``name``."""
    return load(QUIESCE, name, invoke_on_load=True)
