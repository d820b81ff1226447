"""Entry point of oslo-config-generator (``oslo.config.opts``)."""

from backup_flows import conf


def list_opts():
    """Return (group, options) pairs of every backup-flows option group."""
    result = []
    for module in conf.OPTION_MODULES:
        result.extend(module.list_opts().items())
    return result
