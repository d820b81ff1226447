"""kill -9 of the backup-flows conductor running a backup, in the middle
of a disk copy: the other conductor finishes it. Serial: it kills a
conductor every service test shares."""

import os
import signal
import time

from tests.functional import leaks
from tests.functional import minicloud as mc
from tests.functional.service import test_api

ServiceTestCase = test_api.ServiceTestCase
WAIT = test_api.WAIT


class ConductorKilledTestCase(ServiceTestCase):
    """kill -9 of the conductor running a backup in the middle of a disk
    copy: the other conductor finishes it."""

    JOBS_DATABASE = ('postgresql+psycopg2://postgres@127.0.0.1:5432/'
                     'minicloud_backup_flows_jobs')

    def job_detail(self, job_id):
        """The job as its persistence holds it (tasks, claim)."""
        from backup_flows import conf
        from backup_flows import engine

        conf.CONF([], project='backup-flows', default_config_files=[])
        conf.CONF.set_override('persistence_connection', self.JOBS_DATABASE,
                               group='engine')
        self.addCleanup(conf.CONF.clear_override, 'persistence_connection',
                        group='engine')
        return engine.get_job(job_id)

    def conductor_named(self, pid):
        from tools.minicloud import paths
        from tools.minicloud import state as mc_state

        _, up = mc_state.running(paths.settings())
        names = [name for name, svc in up.items() if svc.get('pid') == pid]
        self.assertEqual(1, len(names), (pid, sorted(up)))
        return names[0]

    def test_kill_9_during_a_copy_another_conductor_finishes(self):
        server, volumes = self.make_server(volumes=1)
        expected = self.write_generation(self.disk_paths(server, volumes), 1)
        posted = self.assertStatus(202, self.api(
            'POST', '/v1/backups', json={'backup': {'server_id': server.id}}
        ))['backup']

        def copying():
            job = self.job_detail(posted['job_id'])
            running = [t['name'] for t in job.to_dict()['tasks']
                       if t['state'] == 'RUNNING']
            if job.claim and any(name.startswith(('upload-', 'store-'))
                                 for name in running):
                return job.claim['pid'], running
            return None

        deadline = time.monotonic() + WAIT
        found = None
        while found is None:
            self.assertLess(time.monotonic(), deadline, 'no copy seen')
            found = copying()
            if found is None:
                time.sleep(0.2)
        pid, running = found
        name = self.conductor_named(pid)
        os.kill(pid, signal.SIGKILL)
        self.addCleanup(mc.restart_service, name)

        backup = self.wait_for('/v1/backups/%s' % posted['id'], 'backup')

        self.assertEqual(['sha256:%s' % digest for digest in expected],
                         [disk['checksum'] for disk in backup['disks']])
        job = self.job_detail(posted['job_id']).to_dict()
        self.assertEqual('SUCCESS', job['state'])
        self.assertEqual(2, self.assertStatus(200, self.api(
            'GET', '/v1/jobs/%s' % posted['job_id']))['job']['attempts'])
        # whatever it made (once or twice) is gone again
        self.assertEqual([], leaks.job_leaks(self.conn, posted['job_id']))
