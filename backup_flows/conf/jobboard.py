"""Options of the [jobboard] and [conductor] groups: jobs posted to a
TaskFlow jobboard and run by ``backup-flows-conductor`` processes."""

from oslo_config import cfg

jobboard_group = cfg.OptGroup(
    'jobboard',
    title='Jobboard options',
    help='The TaskFlow jobboard jobs are posted to when [engine] mode is '
         '"jobboard" (the API always posts there).')

jobboard_opts = [
    cfg.StrOpt('backend',
               default='redis',
               choices=[('redis', 'Redis (claims expire; a heartbeat that '
                                  'checks ownership keeps them).')],
               help='Jobboard driver (a plugin of the '
                    'backup_flows.jobboards namespace).'),
    cfg.StrOpt('name',
               default='backup-flows',
               help='Name of the board: every poster and conductor of one '
                    'deployment uses the same.'),
    cfg.HostAddressOpt('redis_host',
                       default='127.0.0.1',
                       help='Redis server (or, with redis_sentinel, a '
                            'Sentinel).'),
    cfg.PortOpt('redis_port', default=6379, help='Redis port.'),
    cfg.IntOpt('redis_db', default=0, min=0, help='Redis database number.'),
    cfg.StrOpt('redis_username', help='Redis ACL user name.'),
    cfg.StrOpt('redis_password', secret=True, help='Redis password.'),
    cfg.StrOpt('redis_sentinel',
               help='Name of the Sentinel-monitored master; set it to '
                    'reach Redis through Sentinel at redis_host:redis_port.'),
    cfg.ListOpt('redis_sentinel_fallbacks',
                default=[],
                help='Further Sentinels, as host:port.'),
    cfg.IntOpt('claim_expiry',
               default=60,
               min=5,
               help='Seconds after which the claim of a conductor that '
                    'stopped renewing it expires, so that another conductor '
                    'takes the job over. A running conductor renews its '
                    'claims every third of this, checking first that it '
                    'still owns them.'),
    cfg.IntOpt('max_attempts',
               default=3,
               min=1,
               help='Conductors a job may be started on. A job whose '
                    'conductors keep dying under it (kill -9, lost claims) '
                    'is trashed after this many starts and marked failed '
                    'with "gave up", for `job abort` or `job cleanup`.'),
    cfg.FloatOpt('poll_interval',
                 default=1.0,
                 min=0.1,
                 help='Seconds between two looks at a posted job by a '
                      'caller waiting for it (the admin CLI).'),
]

conductor_group = cfg.OptGroup(
    'conductor',
    title='Conductor options',
    help='backup-flows-conductor: claims jobs from the jobboard and runs '
         'them.')

conductor_opts = [
    cfg.StrOpt('name',
               help='Name of this conductor on the board. Unset: '
                    'host:pid, unique per process.'),
    cfg.IntOpt('max_simultaneous_jobs',
               default=4,
               min=1,
               help='Jobs one conductor runs at the same time.'),
    cfg.FloatOpt('wait_timeout',
                 default=1.0,
                 min=0.1,
                 help='Seconds an idle conductor waits before it looks at '
                      'the board again.'),
]


def register_opts(conf):
    conf.register_group(jobboard_group)
    conf.register_opts(jobboard_opts, group=jobboard_group)
    conf.register_group(conductor_group)
    conf.register_opts(conductor_opts, group=conductor_group)


def list_opts():
    return {jobboard_group: jobboard_opts, conductor_group: conductor_opts}
