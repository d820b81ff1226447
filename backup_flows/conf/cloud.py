"""Options of the [cloud] group: retries and timeouts of cloud API calls."""

from oslo_config import cfg

cloud_group = cfg.OptGroup(
    'cloud',
    title='Cloud API requests',
    help='How requests to the cloud\'s APIs (Nova, Glance, Cinder, Swift, '
         'Keystone) are retried after a transient failure and how long an '
         'answer is waited for.')

cloud_opts = [
    cfg.IntOpt('retries',
               default=5,
               min=0,
               max=20,
               help='How many times a request that failed for a transient '
                    'reason is sent again: the connection could not be '
                    'made; a GET, HEAD, PUT or DELETE whose connection was '
                    'reset or whose answer did not come within '
                    'read_timeout, or that was answered with one of '
                    'retry_status_codes; a POST or PATCH answered 429 or '
                    '503 (the service refused it before acting on it). A '
                    'POST or PATCH whose answer was lost is not sent again '
                    '(it may have created something); neither is a '
                    'streamed upload whose body was sent. 0 turns retries '
                    'off.'),
    cfg.FloatOpt('retry_delay',
                 default=1.0,
                 min=0,
                 help='Seconds before the first retry of a request; the '
                      'delay doubles at each further retry, up to '
                      'retry_delay_max. With the defaults, a request is '
                      'given up about 31 seconds after it first failed.'),
    cfg.FloatOpt('retry_delay_max',
                 default=16.0,
                 min=0,
                 help='Longest delay between two retries of a request, '
                      'also the longest "Retry-After" a service may ask '
                      'for.'),
    cfg.ListOpt('retry_status_codes',
                item_type=cfg.types.Integer(min=400, max=599),
                default=[429, 500, 502, 503, 504],
                help='HTTP status codes after which an idempotent request '
                     '(GET, HEAD, OPTIONS, PUT, DELETE) is sent again. A '
                     'POST or PATCH is sent again only after 429 and 503, '
                     'and only when they are in this list.'),
    cfg.FloatOpt('connect_timeout',
                 default=10.0,
                 min=0.1,
                 help='Seconds to wait for a connection to an API endpoint '
                      'to be made.'),
    cfg.FloatOpt('read_timeout',
                 default=120.0,
                 min=0.1,
                 help='Seconds to wait for the next bytes of an answer (or '
                      'for the service to take the next bytes of a '
                      'request body): a stalled endpoint fails the request '
                      'instead of hanging for ever. It bounds the silence '
                      'between two bytes, not a whole transfer: a '
                      'multi-hour image download is not cut. An '
                      '"api_timeout" in clouds.yaml takes precedence (for '
                      'both the connection and the answer).'),
]


def register_opts(conf):
    conf.register_group(cloud_group)
    conf.register_opts(cloud_opts, group=cloud_group)


def list_opts():
    return {cloud_group: cloud_opts}
