"""Configuration options of backup-flows.

Every option group lives in its own module with ``register_opts(conf)`` and
``list_opts()``. Nothing here reads an option: options are read at run time.
"""

from oslo_config import cfg

from backup_flows.conf import api
from backup_flows.conf import backup
from backup_flows.conf import cloud
from backup_flows.conf import database
from backup_flows.conf import default
from backup_flows.conf import engine
from backup_flows.conf import fault_injection
from backup_flows.conf import jobboard
from backup_flows.conf import repository
from backup_flows.conf import trustee

CONF = cfg.CONF

OPTION_MODULES = (default, engine, repository, backup, cloud,
                  fault_injection, jobboard, database, api, trustee)


def register_opts(conf):
    """Register every backup-flows option group on ``conf``."""
    for module in OPTION_MODULES:
        module.register_opts(conf)


register_opts(CONF)
