"""Options of the [trustee] group: the backup-flows service user that
acts for users through Keystone trusts.

The API creates one trust per user and project, delegating the user's
roles in the project (or ``roles``) to this user; a job carries only the
trust's id, and whoever runs it authenticates as this user with that
trust id (a trust-scoped token). Give this user no project here: the trust
says which project its tokens are scoped to.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'trustee'

trustee_group = cfg.OptGroup(
    GROUP,
    title='Trustee (service user) options',
    help='The keystoneauth options of the backup-flows service user, the '
         'trustee of the users\' trusts (auth_type = password, auth_url, '
         'username, password, user_domain_name; no project).')

trustee_opts = [
    cfg.ListOpt('roles',
                default=[],
                help='Roles a trust delegates. Empty: every role the user '
                     'holds in the project.'),
    cfg.StrOpt('region_name',
               help='Region of the services the trusts\' jobs call. '
                    'Unset: the only region of the catalog.'),
    cfg.StrOpt('interface',
               default='public',
               choices=['public', 'internal', 'admin'],
               help='Endpoint interface of the services the jobs call.'),
]


def register_opts(conf):
    conf.register_group(trustee_group)
    conf.register_opts(trustee_opts, group=trustee_group)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)


def list_opts():
    return {trustee_group: (
        trustee_opts + ks_loading.get_session_conf_options() +
        ks_loading.get_auth_common_conf_options() +
        ks_loading.get_auth_plugin_conf_options('password'))}
