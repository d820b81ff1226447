"""What the cloud needs on the machine: Debian packages, the local database
and message servers, the cloud's virtualenv and the test drivers in it."""

import os
import shutil
import sys
import time

from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import util

RABBIT_ENV = {'RABBITMQ_NODE_IP_ADDRESS': paths.HOST,
              'ERL_EPMD_ADDRESS': paths.HOST,
              'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
                  '-kernel inet_dist_use_interface {127,0,0,1}'}


def ensure_packages(s):
    """Install missing Debian packages; start PostgreSQL, MariaDB, RabbitMQ
    and Redis (the jobboard of backup-flows' conductors) when they do not
    answer."""
    missing = [pkg for exe, pkg in paths.DEB_PACKAGES.items()
               if not shutil.which(exe)]
    if missing:
        if not s.is_root:
            raise util.Failure('missing Debian packages %s (install as root)'
                               % ' '.join(missing))
        util.say('installing Debian packages: %s' % ' '.join(missing))
        procs.run(s, ['apt-get', 'update', '-q'], 'apt')
        procs.run(s, ['apt-get', 'install', '-y', '-q'] + missing, 'apt',
                  env={'DEBIAN_FRONTEND': 'noninteractive'})
    if not util.tcp_open(5432):
        util.say('PostgreSQL does not answer on 5432: starting it')
        versions = os.listdir('/etc/postgresql')
        procs.run(s, ['pg_ctlcluster', '--skip-systemctl-redirect',
                      versions[0], 'main', 'start'], 'infra')
    if not util.tcp_open(3306):
        util.say('MariaDB does not answer on 3306: starting it')
        procs.run(s, ['/etc/init.d/mariadb', 'start'], 'infra')
    if not util.tcp_open(6379):
        util.say('Redis does not answer on 6379: starting it')
        procs.run(s, ['redis-server', '--daemonize', 'yes', '--bind',
                      paths.HOST, '--port', '6379', '--save', ''], 'infra')
    if not util.tcp_open(5672):
        util.say('RabbitMQ does not answer on 5672: starting it')
        procs.run(s, ['rabbitmq-server', '-detached'], 'infra',
                  env=RABBIT_ENV)
        deadline = time.time() + 60
        while not util.tcp_open(5672):
            if time.time() > deadline:
                raise util.Failure('RabbitMQ did not start',
                                   s.log_path('infra'))
            time.sleep(1)


def ensure_venv(s):
    """Build the cloud's virtualenv unless it is complete."""
    marker = os.path.join(s.venv, '.minicloud-complete')
    if os.path.exists(marker):
        return
    util.say('building virtualenv %s (first start only, about 2 minutes)'
             % s.venv)
    shutil.rmtree(s.venv, ignore_errors=True)
    os.makedirs(s.cache, exist_ok=True)
    procs.run(s, [s.python, '-m', 'venv', s.venv], 'install')
    procs.run(s, [os.path.join(s.vbin, 'pip'), 'install', '-q',
                  '--no-input', '-r', s.reqs], 'install')
    with open(marker, 'w') as f:
        f.write(time.ctime() + '\n')


def site_packages(s):
    """The venv's site-packages (same Python version as the one running)."""
    return os.path.join(s.venv, 'lib', 'python%d.%d' % sys.version_info[:2],
                        'site-packages')


DIST_FILES = {
    'METADATA': 'Metadata-Version: 2.1\nName: minicloud-drivers\n'
                'Version: 1.0\n',
    'entry_points.txt':
        '[neutron.ml2.mechanism_drivers]\n'
        'minicloud = minicloud_drivers.neutron_mech:'
        'MiniCloudMechanismDriver\n',
    'INSTALLER': 'minicloud\n',
    'RECORD': '',
}


def install_drivers(s):
    """Copy this project's test drivers into the cloud's venv."""
    sp = site_packages(s)
    dst = os.path.join(sp, 'minicloud_drivers')
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(paths.DRIVERS, dst,
                    ignore=shutil.ignore_patterns('__pycache__'))
    # Nova only loads compute_driver from inside the nova.virt package.
    shutil.copy(os.path.join(paths.DRIVERS, 'nova_virt.py'),
                os.path.join(sp, 'nova', 'virt', 'minicloud.py'))
    # The ML2 mechanism driver is loaded by entry point name.
    dist = os.path.join(sp, 'minicloud_drivers-1.0.dist-info')
    os.makedirs(dist, exist_ok=True)
    for name, text in DIST_FILES.items():
        path = os.path.join(dist, name)
        if os.path.exists(path):
            with open(path) as f:
                if f.read() == text:
                    continue
        with open(path, 'w') as f:
            f.write(text)


def in_venv(s):
    """Whether this process runs the cloud venv's Python."""
    return os.path.realpath(sys.prefix) == os.path.realpath(s.venv)


def reexec(s, args, t0=None):
    """Replace this process by the launcher run by the venv's Python."""
    env = dict(os.environ)
    # the total printed at the end counts from the command's start
    env.setdefault('MINICLOUD_T0', str(t0 or time.time()))
    python = os.path.join(s.vbin, 'python')
    os.execve(python, [python, paths.LAUNCHER] + list(args), env)
