"""Restoring a backup: ``backup restore BACKUP_ID [options]``.

The top-level ``restore BACKUP_ID [options]`` of earlier releases stays for
one release as a deprecated alias: the same options and behaviour, plus a
deprecation warning on stderr. :func:`add_command_parser` adds its parser
next to the categories' ones.
"""

import sys

from backup_flows.cmd import common
from backup_flows.operations import restores

FIELDS = ['server_id', 'server_name', 'volume_ids', 'image_id', 'backup_id',
          'job_id', 'cloud', 'flavor', 'networks', 'availability_zone',
          'security_groups', 'key_name', 'warnings']

DESCRIPTION = """\
Restore a backup onto a new server.

Creates, in the target cloud, a server whose root disk and volumes hold
exactly the backed-up bytes: the root disk as an image (kept, reported as
image_id) or as a boot volume, like the original, and every data volume as a
new volume attached to it. Flavor, networks, availability zone and volume
types default to the original ones when they exist in the target cloud;
security groups and the key pair are kept where they exist (a warning
otherwise). When anything fails, everything the restore created is deleted.
"""

DEPRECATION = ('WARNING: "backup-flows-manage restore" is deprecated and '
               'will be removed in the next release; use '
               '"backup-flows-manage backup restore"\n')

# The arguments of the command, as (names, argparse keyword arguments).
_ARGS = [
    (('backup_id',), dict(metavar='BACKUP_ID',
                          help='Id of the backup to restore.')),
    # "name" is reserved by oslo.config's sub-command attribute.
    (('--name',), dict(dest='server_name', metavar='NAME',
                       help='Name of the new server (default: the '
                            'original name).')),
    (('--flavor',), dict(dest='flavor', metavar='FLAVOR',
                         help='Flavor name or id (default: the original '
                              'flavor).')),
    (('--network',), dict(dest='networks', action='append', metavar='NET',
                          help='Network name or id of a port of the new '
                               'server; repeat for several (default: the '
                               'original networks, by id, else by name).')),
    (('--availability-zone',), dict(dest='availability_zone', metavar='AZ',
                                    help='Availability zone (default: the '
                                         'original one when it exists).')),
    (('--volume-type',), dict(dest='volume_type', metavar='TYPE',
                              help='Volume type of every restored volume '
                                   '(default: the original type when it '
                                   'exists, else the default type).')),
    (('--target-cloud',), dict(dest='target_cloud', metavar='CLOUD',
                               help='clouds.yaml entry to restore into '
                                    '(default: --os-cloud/OS_CLOUD).')),
    # "repository" is an option group: oslo.config refuses it as a dest.
    (('--repository',), dict(dest='repository_url', metavar='URL',
                             help='Repository holding the backup (default: '
                                  '[repository] url, else a file repository '
                                  'under state_path).')),
]
_DESTS = [kwargs.get('dest', names[0]) for names, kwargs in _ARGS]


def print_restored(result):
    """Print a restore's result as ``backup restore`` does (also ``job
    resume``)."""
    common.print_item(result, FIELDS)


def restore(backup_id, server_name=None, flavor=None, networks=None,
            availability_zone=None, volume_type=None, target_cloud=None,
            repository_url=None):
    """Restore a backup onto a new server and print what was created."""
    print_restored(restores.restore(
        backup_id, server_name=server_name, flavor=flavor,
        networks=networks, availability_zone=availability_zone,
        volume_type=volume_type, target_cloud=target_cloud,
        repository_url=common.url(repository_url)))


def restore_command(func):
    """Make ``func`` the ``backup restore`` action: its arguments and its
    help."""
    for names, kwargs in reversed(_ARGS):
        func = common.args(*names, **kwargs)(func)
    func.__doc__ = DESCRIPTION
    return func


def _deprecated_restore(**kwargs):
    sys.stderr.write(DEPRECATION)
    return restore(**kwargs)


def add_command_parser(subparsers):
    """Add the deprecated top-level ``restore`` command."""
    parser = subparsers.add_parser(
        'restore', help='Deprecated: use "backup restore".',
        description='Deprecated alias of "backup restore", removed in the '
                    'next release.\n\n' + DESCRIPTION)
    for names, kwargs in _ARGS:
        parser.add_argument(*names, **kwargs)
    parser.set_defaults(action_fn=_deprecated_restore, action_kwargs=_DESTS)
