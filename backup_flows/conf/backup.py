"""Options of the [backup] group: how server backups are taken and kept."""

from oslo_config import cfg

backup_group = cfg.OptGroup(
    'backup',
    title='Server backup options',
    help='Defaults of "backup create" and the retention policy of '
         '"backup prune".')

backup_opts = [
    cfg.StrOpt('quiesce',
               default='pause',
               help='Quiesce mode of the transient snapshot a backup is '
                    'copied from (a backup_flows.quiesce plugin: none, '
                    'pause, stop, guest-agent). "pause" captures every '
                    'disk at one instant.'),
    cfg.StrOpt('root_exporter',
               default='image',
               help='Exporter plugin (backup_flows.exporters) of the root '
                    'disk of an image-backed server.'),
    cfg.StrOpt('volume_exporter',
               default='volume-image',
               help='Exporter plugin (backup_flows.exporters) of volumes, '
                    'boot volumes included.'),
    cfg.StrOpt('local_disks',
               default='refuse',
               choices=[('refuse', 'refuse to back up a server whose flavor '
                                   'gives it an ephemeral disk'),
                        ('skip', 'back up its other disks and record the '
                                 'ephemeral disk as skipped')],
               help='What "backup create" does with a server whose flavor '
                    'gives it an ephemeral disk: the hypervisor keeps that '
                    'disk on the compute host, out of reach of the image '
                    'and volume APIs backups copy disks through. "refuse" '
                    '(default) fails before anything is created, so no '
                    'backup silently lacks data; "skip" backs up the other '
                    'disks, records the ephemeral disk in the backup '
                    '("skipped_disks") and logs a warning; a restore gets '
                    'an empty ephemeral disk from the flavor. A swap disk '
                    'is always skipped (and recorded): it holds scratch '
                    'memory no guest reads back after it boots again, and '
                    'the flavor gives the restored server a new one.'),
    cfg.IntOpt('transient_snapshot_ttl',
               default=86400,
               min=60,
               help='Seconds the transient snapshot set of a backup would '
                    'live if the backup were interrupted and never '
                    'resumed ("snapshot expire" then deletes it).'),
    cfg.IntOpt('keep_last', default=0, min=0,
               help='Retention: keep the N newest backups of each server.'),
    cfg.IntOpt('keep_hourly', default=0, min=0,
               help='Retention: keep the newest backup of each of the last '
                    'N hours that have one.'),
    cfg.IntOpt('keep_daily', default=0, min=0,
               help='Retention: same for days.'),
    cfg.IntOpt('keep_weekly', default=0, min=0,
               help='Retention: same for ISO weeks.'),
    cfg.IntOpt('keep_monthly', default=0, min=0,
               help='Retention: same for months.'),
    cfg.IntOpt('keep_yearly', default=0, min=0,
               help='Retention: same for years.'),
]


def register_opts(conf):
    conf.register_group(backup_group)
    conf.register_opts(backup_opts, group=backup_group)


def list_opts():
    return {backup_group: backup_opts}
