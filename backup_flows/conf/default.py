"""Options of the [DEFAULT] group."""

import os

from oslo_config import cfg


def _default_state_path():
    base = os.environ.get('XDG_DATA_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'share')
    return os.path.join(base, 'backup-flows')


cli_opts = [
    cfg.StrOpt('os-cloud',
               dest='os_cloud',
               default=os.environ.get('OS_CLOUD'),
               sample_default='$OS_CLOUD',
               help='Name of the cloud in clouds.yaml to act on (default: '
                    'the OS_CLOUD environment variable).'),
]

default_opts = [
    cfg.StrOpt('state_path',
               default=_default_state_path(),
               sample_default='$HOME/.local/share/backup-flows',
               help='Directory where backup-flows keeps its state: the flow '
                    'persistence database and the default backup '
                    'repository. Operators running it as a service set '
                    '/var/lib/backup-flows.'),
    cfg.IntOpt('wait_timeout',
               default=600,
               min=1,
               help='Seconds to wait for a cloud resource (image, volume, '
                    'snapshot, server) to reach its target status.'),
    cfg.IntOpt('wait_interval',
               default=2,
               min=1,
               help='Longest time in seconds between two polls of a cloud '
                    'resource status: polls start a quarter of a second '
                    'apart, then come a twentieth of the time waited so '
                    'far apart (a change is seen at most about 5% late), '
                    'up to this.'),
]


def register_opts(conf):
    conf.register_cli_opts(cli_opts)
    conf.register_opts(default_opts)


def list_opts():
    return {'DEFAULT': cli_opts + default_opts}
