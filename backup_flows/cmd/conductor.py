"""``backup-flows-conductor``: claims jobs from the jobboard and runs them.

Runs until SIGTERM or SIGINT: it then claims no more jobs and suspends
the running ones after their running tasks; another conductor resumes
them (so does this one, restarted). Killed with SIGKILL, its claims
expire after ``[jobboard] claim_expiry`` and other conductors take its
jobs over. Exit status: 0 after a stop, 1 when the jobboard or the
persistence database cannot be used, 2 for a bad configuration.
"""

import os
import signal
import socket
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import operations

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)


def _stop_on_signals(conductor):
    def stop(signum, frame):
        LOG.info('Signal %d: stopping after the running tasks', signum)
        # not in the handler itself: suspending takes the engines' locks
        threading.Thread(target=conductor.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    logging.register_options(CONF)
    try:
        CONF(argv, project='backup-flows', prog='backup-flows-conductor')
    except cfg.Error as exc:
        sys.stderr.write('ERROR: %s\n' % exc)
        return exceptions.EXIT_USAGE
    logging.setup(CONF, 'backup-flows')
    name = CONF.conductor.name or '%s:%d' % (socket.gethostname(),
                                             os.getpid())
    try:
        with operations.conductor(name) as conductor:
            _stop_on_signals(conductor)
            LOG.info('Conductor %s running jobs of board %s (at most %d at '
                     'once)', name, CONF.jobboard.name,
                     CONF.conductor.max_simultaneous_jobs)
            conductor.run()
    except exceptions.BackupFlowsError as exc:
        LOG.error('%s', exc)
        return exc.exit_code
    LOG.info('Conductor %s stopped', name)
    return exceptions.EXIT_OK


def console_main():
    sys.exit(main())


if __name__ == '__main__':
    console_main()
