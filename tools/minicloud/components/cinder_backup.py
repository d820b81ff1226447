"""cinder-backup: Cinder's backup service, with the Swift backup driver."""

from tools.minicloud import readiness
from tools.minicloud import services
from tools.minicloud.components import base


class CinderBackup(base.Component):
    """The cinder-backup service storing backups in Swift (volumebackups).

    Its options (templates/components/cinder-backup/cinder/cinder.conf)
    go into cinder.conf: the driver, read by cinder-backup, and the backup
    quotas, read by cinder-api, which is therefore restarted when the
    component is added to a running cloud.
    """

    name = 'cinder-backup'
    service_names = ('cinder-backup',)
    restarts = ('cinder-api',)

    def services(self, s):
        return {'cinder-backup': services.Service(
            'cinder-backup', [f'{s.vbin}/cinder-backup', '--config-file',
                              f'{s.etc}/cinder/cinder.conf'],
            group=services.BLOCK_STORAGE,
            restart_wait=services.BLOCK_STORAGE,
            log_marker=b'Cleaning up incomplete backup operations',
            # it ignores SIGTERM: give it only a short grace
            kill_grace=3.0)}

    def wait_ready(self, s, state):
        readiness.wait_block_storage(s, state['secrets'], ['cinder-backup'])
