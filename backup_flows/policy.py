"""Policy enforcement of the backup-flows API.

The API calls :func:`init` once with its configuration; each handler then
calls :func:`authorize` with the rule of its operation (constants of
:mod:`backup_flows.policies`) and a target naming the resource's owner::

    policy.authorize(context, snapshots.DELETE,
                     {'project_id': snapshot['project_id'],
                      'user_id': snapshot['user_id']})

The target is the project (and user) of the resource acted on; a create or
a list passes the request's own, ``{'project_id': context.project_id,
'user_id': context.user_id}``. Resources belong to their project: the
default rules look at ``project_id`` only.

The operator's policy file (``[oslo_policy] policy_file``, ``policy.yaml``
found in the configuration directories by default) overrides the defaults
in code and is reloaded when it changes.
"""

from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from backup_flows import exceptions
from backup_flows import policies

LOG = logging.getLogger(__name__)

_ENFORCER = None


def _set_defaults(conf):
    # A new service has no deprecated defaults to fall back to.
    # enforce_scope only exists before oslo.policy 6 (which always enforces
    # scope) and is ignored where it does not.
    policy_opts.set_defaults(conf, policy_file='policy.yaml',
                             enforce_scope=True, enforce_new_defaults=True)


def init(conf):
    """Build the enforcer from ``conf`` once, with every rule registered.

    Later calls return the same enforcer until :func:`reset`.
    """
    global _ENFORCER
    if _ENFORCER is None:
        _set_defaults(conf)
        enforcer = policy.Enforcer(conf)
        enforcer.register_defaults(policies.list_rules())
        enforcer.load_rules()
        _ENFORCER = enforcer
    return _ENFORCER


def reset():
    """Forget the enforcer (tests, or to read a new configuration)."""
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
        _ENFORCER = None


def get_enforcer():
    """Return the enforcer for the oslopolicy-* tools.

    The ``oslo.policy.enforcer`` entry point: oslopolicy-policy-generator
    and oslopolicy-checker merge the operator's policy file with the
    defaults in code through it, so it reads backup-flows' own
    configuration files (``/etc/backup-flows/backup-flows.conf`` and the
    ``policy.yaml`` next to it).
    """
    cfg.CONF([], project='backup-flows')
    return init(cfg.CONF)


def authorize(context, action, target, do_raise=True):
    """Check that ``context`` may perform ``action`` on ``target``.

    :param context: an oslo.context ``RequestContext``.
    :param action: a rule name, e.g. ``server-protection:backups:create``.
    :param target: ``{'project_id': ..., 'user_id': ...}`` of the resource
        acted on (see the module's docstring).
    :param do_raise: raise when refused (default) or return False.
    :raises backup_flows.exceptions.PolicyNotAuthorized: when refused,
        also for a token of the wrong scope (system or domain).
    :raises oslo_policy.policy.PolicyNotRegistered: for an unknown action.
    :returns: a true value when allowed; False when refused and not
        ``do_raise``.
    """
    enforcer = init(cfg.CONF)
    try:
        return enforcer.authorize(
            action, target, context, do_raise=do_raise,
            exc=exceptions.PolicyNotAuthorized, action=action)
    except policy.InvalidScope as exc:
        LOG.debug('Policy %s refused: %s', action, exc)
        raise exceptions.PolicyNotAuthorized(action=action)
    except exceptions.PolicyNotAuthorized:
        LOG.debug('Policy %s refused credentials %s', action,
                  context.to_policy_values())
        raise
