"""Options of the [api] group: the backup-flows-api WSGI application.

The middleware in front of the application keeps its own groups:
``[keystone_authtoken]`` (keystonemiddleware), ``[cors]``,
``[healthcheck]`` and ``[oslo_middleware]`` (oslo.middleware; the latter
holds ``max_request_body_size`` and ``enable_proxy_headers_parsing``).
"""

from oslo_config import cfg

api_group = cfg.OptGroup(
    'api',
    title='API options',
    help='The backup-flows-api WSGI application '
         '(backup_flows.api.wsgi:application).')

api_opts = [
    cfg.StrOpt('auth_strategy',
               default='keystone',
               choices=[('keystone', 'Keystone tokens, checked by '
                                     'keystonemiddleware auth_token as '
                                     'configured in [keystone_authtoken].'),
                        ('noauth2', 'For tests only: no credential is '
                                    'checked; the X-Auth-Token header '
                                    '"user:project" (or "admin") names the '
                                    'caller.')],
               help='How API requests are authenticated. The version '
                    'document at / and /healthcheck never need a token.'),
    cfg.IntOpt('max_limit',
               default=1000,
               min=1,
               help='Most items one page of a list request returns, '
                    'whatever its "limit" parameter asks for.'),
]


def register_opts(conf):
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)


def list_opts():
    return {api_group: api_opts}
