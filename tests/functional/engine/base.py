"""Conductors against the real Redis and PostgreSQL of this machine.

Each test has a PostgreSQL database of its own for the job persistence,
a board of its own on Redis (its name is the Redis key namespace), and
runs ``backup-flows-conductor`` processes that run the toy flows of
tests.unit.fake_flows (importable by name from the top of the checkout).
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import fixtures
import redis
import sqlalchemy
import testtools

from backup_flows import conf
from backup_flows import engine

from tests.unit import fake_flows

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
POSTGRES = 'postgresql+psycopg2://postgres@127.0.0.1:5432/'
CLAIM_EXPIRY = 6


def _admin_engine():
    return sqlalchemy.create_engine(POSTGRES + 'postgres',
                                    isolation_level='AUTOCOMMIT')


class ConductorTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.journal = os.path.join(self.tmp, 'journal')
        self.conductors = []
        self.release = os.path.join(self.tmp, 'release')
        name = 'bf_ft_%s' % uuid.uuid4().hex[:12]
        self._create_database(name)
        self.board = 'bf-ft-' + name
        self.config = os.path.join(self.tmp, 'backup-flows.conf')
        with open(self.config, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n'
                    '[engine]\npersistence_connection = %s%s\n'
                    '[jobboard]\nname = %s\nclaim_expiry = %d\n'
                    'poll_interval = 0.2\nmax_attempts = 2\n'
                    '[conductor]\nwait_timeout = 0.2\n'
                    % (self.tmp, POSTGRES, name, self.board, CLAIM_EXPIRY))
        conf.CONF(['--config-file', self.config], project='backup-flows',
                  default_config_files=[])
        self.addCleanup(conf.CONF.reset)
        self.addCleanup(self._clear_board)
        self.useFixture(fixtures.MockPatch(
            'backup_flows.plugins.load_flow_factory',
            return_value=fake_flows.get_flow))

    def _create_database(self, name):
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text('CREATE DATABASE %s' % name))
        self.addCleanup(self._drop_database, name)

    def _drop_database(self, name):
        from backup_flows.engine import persistence

        # the cached backend of this process holds connections to it
        for backend in persistence._backends.values():
            backend.close()
        persistence._backends.clear()
        with _admin_engine().connect() as conn:
            conn.execute(sqlalchemy.text(
                'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name))

    def _clear_board(self):
        client = redis.Redis(host='127.0.0.1', port=6379)
        keys = list(client.scan_iter(match=self.board + '*'))
        if keys:
            client.delete(*keys)

    def start_conductor(self, block_at=None):
        env = dict(os.environ, TOY_RELEASE=self.release,
                   TOY_BLOCK_AT=block_at or '')
        log = open(os.path.join(self.tmp, 'conductor-%d.log'
                                % time.monotonic_ns()), 'w')
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'backup_flows.cmd.conductor',
             '--config-file', self.config],
            cwd=TOP, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log = log.name
        proc.killed = False
        self.conductors.append(proc)
        self.addCleanup(self._stop, proc)
        return proc

    def _stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()

    def kill_9(self, proc):
        proc.killed = True
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def post_toy(self, **args):
        args.setdefault('steps', ['one', 'two', 'three'])
        return engine.post_flow('toy', args, {'journal': self.journal})

    def lines(self):
        if not os.path.exists(self.journal):
            return []
        with open(self.journal) as journal:
            return journal.read().split('\n')[:-1]

    def _check_conductors(self):
        for proc in self.conductors:
            if not proc.killed and proc.poll() is not None:
                with open(proc.log) as log:
                    self.fail('conductor %d ended (%s):\n%s'
                              % (proc.pid, proc.returncode, log.read()))

    def wait_for(self, predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            self._check_conductors()
            self.assertLess(time.monotonic(), deadline, what)
            time.sleep(0.2)

    def wait_for_line(self, line, count=1, timeout=60):
        self.wait_for(lambda: self.lines().count(line) >= count,
                      '%r never journaled %d times: %s'
                      % (line, count, self.lines()), timeout)

    def wait_for_state(self, job_id, state, timeout=60):
        def ended():
            job = engine.get_job(job_id)
            return job.meta.get('ended_at') and job.state == state and job

        return self.wait_for(ended, 'job %s never %s' % (job_id, state),
                             timeout)
