"""backup-flows: this checkout's own API and two conductors, as a service.

The checkout (the repository holding tools/minicloud) is installed,
editable, into a virtualenv of its own; its configuration is rendered from
templates/components/backup-flows/backup-flows/; its databases and its
jobboard's Redis keys are created or emptied at every start.
"""

import hashlib
import json
import os
import secrets as secrets_mod
import shutil
import time
import urllib.request

from tools.minicloud import databases
from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import readiness
from tools.minicloud import resources
from tools.minicloud import services
from tools.minicloud import util
from tools.minicloud.components import base

TOP = os.path.dirname(os.path.dirname(paths.TOOLS))
# What the virtualenv is built from: a change builds a new one.
VENV_INPUTS = ('requirements.txt', 'setup.cfg')
NAME = 'backup-flows'
API = 'backup-flows-api'
CONDUCTORS = ('backup-flows-conductor-1', 'backup-flows-conductor-2')
PORT = paths.PORTS[API]
# Keystone: the service user (its password is state['secrets'][NAME]),
# the catalog entry.
USER = 'backup-flows'
SERVICE_TYPE = 'server-protection'
# minicloud_ like every database a start drops: never a real installation's.
DATABASE = 'minicloud_backup_flows'
JOBS_DATABASE = 'minicloud_backup_flows_jobs'
BOARD = 'minicloud-backup-flows'
REDIS_PORT = 6379
SETUP_LOG = 'backup-flows-setup'
CONDUCTOR_MARKER = b'running jobs of board'
# A conductor that logged its marker must still run this long after.
STEADY_SECONDS = 2.0
# Deletes the board's keys; run by the component venv's Python.
CLEAR_BOARD = '''import sys
import redis
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]))
keys = list(r.scan_iter(match=sys.argv[3] + '*'))
if keys:
    r.delete(*keys)
print('deleted %d keys of board %s' % (len(keys), sys.argv[3]))
'''


def venv_dir(s):
    """$MINICLOUD_CACHE/backup-flows-venv-<hash of VENV_INPUTS>."""
    digest = hashlib.sha256()
    for name in VENV_INPUTS:
        with open(os.path.join(TOP, name), 'rb') as f:
            digest.update(f.read())
    return os.path.join(s.cache,
                        'backup-flows-venv-' + digest.hexdigest()[:12])


def config_files(s):
    """The configuration files every backup-flows process reads, in order:
    backup-flows.conf, then extra.conf (whose options win)."""
    return [f'{s.etc}/backup-flows/backup-flows.conf',
            f'{s.etc}/backup-flows/extra.conf']


def config_args(s):
    return [arg for path in config_files(s) for arg in ('--config-file', path)]


def venv_env(venv):
    """Environment of the processes run from the component's venv."""
    return {'PATH': os.path.join(venv, 'bin') + ':' + procs.SYSTEM_PATH,
            'VIRTUAL_ENV': venv}


def ensure_venv(s):
    """Build the component's virtualenv unless complete; install the
    checkout into it unless it is the one installed already.

    The checkout is installed editable: a service (re)started runs the
    code in the checkout as it is then, without a reinstall.
    """
    venv = venv_dir(s)
    pip = os.path.join(venv, 'bin', 'pip')
    # pbr would write AUTHORS and ChangeLog into the checkout
    env = dict(venv_env(venv), SKIP_GENERATE_AUTHORS='1',
               SKIP_WRITE_GIT_CHANGELOG='1')
    marker = os.path.join(venv, '.minicloud-complete')
    if not os.path.exists(marker):
        util.say('building virtualenv %s (once per change of the '
                 "checkout's requirements, about a minute)" % venv)
        shutil.rmtree(venv, ignore_errors=True)
        os.makedirs(s.cache, exist_ok=True)
        procs.run(s, [s.python, '-m', 'venv', venv], SETUP_LOG, env=env)
        procs.run(s, [pip, 'install', '-q', '--no-input', 'setuptools>=64',
                      'wheel', 'gunicorn', 'psycopg2-binary', '-r',
                      os.path.join(TOP, 'requirements.txt')],
                  SETUP_LOG, env=env)
        with open(marker, 'w') as f:
            f.write(time.ctime() + '\n')
    installed = os.path.join(venv, '.minicloud-checkout')
    if os.path.exists(installed):
        with open(installed) as f:
            if f.read() == TOP:
                return
    procs.run(s, [pip, 'install', '-q', '--no-input', '--no-deps',
                  '--no-build-isolation', '-e', TOP], SETUP_LOG, env=env)
    with open(installed, 'w') as f:
        f.write(TOP)


def recreate_databases(s):
    """Drop and create the service and flow persistence databases."""
    stmts = []
    for db in (DATABASE, JOBS_DATABASE):
        stmts += ['DROP DATABASE IF EXISTS %s WITH (FORCE)' % db,
                  'CREATE DATABASE %s' % db]
    databases.psql(s, *stmts)


def setup_steps(s):
    """Once configured: empty the board, create both schemas (callables).

    ``job list`` opens the flow persistence database, which creates its
    tables: the two conductors would otherwise race to create them.
    """
    venv = venv_dir(s)
    vbin = os.path.join(venv, 'bin')
    env = venv_env(venv)
    manage = [f'{vbin}/backup-flows-manage'] + config_args(s)
    return [
        lambda: procs.run(s, [f'{vbin}/python', '-c', CLEAR_BOARD,
                              paths.HOST, str(REDIS_PORT), BOARD],
                          SETUP_LOG, env=env),
        lambda: procs.run(s, manage + ['db', 'sync'], SETUP_LOG, env=env),
        lambda: procs.run(s, manage + ['job', 'list'], SETUP_LOG, env=env),
    ]


def register_identity(secrets):
    """The service user (role service in project service) and the catalog
    entry; kept when already there (a retried ``start --with``)."""
    conn = util.admin_conn(secrets)
    idn = conn.identity
    domain = idn.find_domain('default', ignore_missing=False)
    project = idn.find_project('service', domain_id=domain.id,
                               ignore_missing=False)
    role = idn.find_role('service', ignore_missing=False)
    user = idn.find_user(USER, domain_id=domain.id)
    if user is None:
        user = idn.create_user(name=USER, password=secrets[NAME],
                               domain_id=domain.id,
                               default_project_id=project.id)
    idn.assign_project_role_to_user(project, user, role)
    if not any(svc.type == SERVICE_TYPE for svc in idn.services()):
        resources.register_services(conn, [
            (NAME, SERVICE_TYPE, 'http://%s:%d' % (paths.HOST, PORT))])


def wait_versions(svc, timeout=60):
    """Wait until the API answers / with its version document."""
    url = 'http://%s:%d/' % (paths.HOST, PORT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not procs.alive(svc):
            raise util.Failure('%s exited while starting' % API, svc['log'])
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200 and json.load(response)['versions']:
                    return
        except (OSError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.25)
    raise util.Failure('%s gave no version document at %s' % (API, url),
                       svc['log'])


def wait_conductor(entry, svc):
    """Wait until a conductor runs the board's jobs, and still runs."""
    readiness.wait_log_marker(entry, svc, 0)
    time.sleep(STEADY_SECONDS)
    if not procs.alive(svc):
        raise util.Failure('%s exited once started' % entry.name,
                           svc['log'])


class BackupFlows(base.Component):
    """backup-flows-api (gunicorn) and two backup-flows-conductor.

    Configuration: etc/backup-flows/backup-flows.conf, then extra.conf,
    which is empty at start and read last: the place for options tests
    or later work add without changing this component.
    """

    name = NAME
    service_names = (API,) + CONDUCTORS

    def services(self, s):
        venv = venv_dir(s)
        vbin = os.path.join(venv, 'bin')
        env = venv_env(venv)
        api_env = dict(env, BACKUP_FLOWS_CONFIG_FILE=':'.join(
            config_files(s)))
        entries = [services.Service(
            API, [f'{vbin}/gunicorn', '--workers', '2', '--threads', '4',
                  '--worker-class', 'gthread', '--bind',
                  f'{paths.HOST}:{PORT}', '--keep-alive', '75',
                  '--graceful-timeout', '5',
                  'backup_flows.api.wsgi:application'],
            api_env, port=PORT, restart_wait=services.HTTP)]
        # [conductor] name unset: host:pid, distinct for the two
        entries += [services.Service(
            name, [f'{vbin}/backup-flows-conductor'] + config_args(s), env,
            restart_wait=services.LOG_MARKER, log_marker=CONDUCTOR_MARKER)
            for name in CONDUCTORS]
        return {e.name: e for e in entries}

    def values(self, s, state):
        return dict(super().values(s, state),
                    bf_state_path=os.path.join(s.home, 'backup-flows'),
                    bf_user=USER, bf_password=state['secrets'][NAME],
                    bf_database=DATABASE, bf_jobs_database=JOBS_DATABASE,
                    bf_board=BOARD, bf_redis_port=REDIS_PORT)

    def configure(self, s, state):
        """Its password, venv, databases, files, board and schemas."""
        state['secrets'].setdefault(NAME, secrets_mod.token_hex(12))
        os.makedirs(os.path.join(s.home, 'backup-flows'), exist_ok=True)
        util.parallel([lambda: ensure_venv(s),
                       lambda: recreate_databases(s)])
        restarts = super().configure(s, state)
        util.parallel(setup_steps(s))
        return restarts

    def wait_ready(self, s, state):
        table = self.services(s)
        svcs = state['services']
        util.parallel(
            [lambda: wait_versions(svcs[API])]
            + [lambda n=n: wait_conductor(table[n], svcs[n])
               for n in CONDUCTORS])

    def resources(self, s, state):
        return [lambda: register_identity(state['secrets'])]
