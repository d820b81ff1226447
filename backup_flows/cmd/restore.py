"""CLI command ``restore BACKUP_ID [options]``.

Unlike the other categories, ``restore`` takes its arguments directly
(``backup-flows-manage restore BACKUP_ID``): :func:`add_command_parser`
adds its parser next to the categories' ones.
"""

from backup_flows.cmd import common
from backup_flows.operations import restores

_FIELDS = ['server_id', 'server_name', 'volume_ids', 'image_id', 'backup_id',
           'job_id', 'cloud', 'flavor', 'networks', 'availability_zone',
           'security_groups', 'key_name', 'warnings']

HELP = 'Restore a backup onto a new server.'
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


def restore(backup_id, server_name=None, flavor=None, networks=None,
            availability_zone=None, volume_type=None, target_cloud=None,
            repository_url=None):
    """Restore a backup onto a new server and print what was created."""
    result = restores.restore(
        backup_id, server_name=server_name, flavor=flavor,
        networks=networks, availability_zone=availability_zone,
        volume_type=volume_type, target_cloud=target_cloud,
        repository_url=repository_url)
    common.print_item(result, _FIELDS)


def add_command_parser(subparsers):
    """Add the ``restore`` command to the CLI's sub-parsers."""
    parser = subparsers.add_parser('restore', help=HELP,
                                   description=DESCRIPTION)
    parser.add_argument('backup_id', metavar='BACKUP_ID',
                        help='Id of the backup to restore.')
    # "name" is reserved by oslo.config's sub-command attribute.
    parser.add_argument('--name', dest='server_name', metavar='NAME',
                        help='Name of the new server (default: the '
                             'original name).')
    parser.add_argument('--flavor', metavar='FLAVOR',
                        help='Flavor name or id (default: the original '
                             'flavor).')
    parser.add_argument('--network', dest='networks', action='append',
                        metavar='NET',
                        help='Network name or id of a port of the new '
                             'server; repeat for several (default: the '
                             'original networks, by id, else by name).')
    parser.add_argument('--availability-zone', dest='availability_zone',
                        metavar='AZ',
                        help='Availability zone (default: the original one '
                             'when it exists).')
    parser.add_argument('--volume-type', dest='volume_type', metavar='TYPE',
                        help='Volume type of every restored volume (default: '
                             'the original type when it exists, else the '
                             'default type).')
    parser.add_argument('--target-cloud', dest='target_cloud',
                        metavar='CLOUD',
                        help='clouds.yaml entry to restore into (default: '
                             '--os-cloud/OS_CLOUD).')
    # "repository" is an option group: oslo.config refuses it as a dest.
    parser.add_argument('--repository', dest='repository_url', metavar='URL',
                        help='Repository holding the backup (default: '
                             '[repository] url, else a file repository '
                             'under state_path).')
    parser.set_defaults(
        action_fn=restore,
        action_kwargs=['backup_id', 'server_name', 'flavor', 'networks',
                       'availability_zone', 'volume_type', 'target_cloud',
                       'repository_url'])
