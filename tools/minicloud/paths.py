"""Where the minicloud keeps things, and the names and ports it uses.

Nothing is computed at import time: ``settings()`` reads the environment
(``MINICLOUD_HOME``, ``MINICLOUD_CACHE``, ``MINICLOUD_PYTHON``) when called.
"""

import dataclasses
import functools
import hashlib
import os

TOOLS = os.path.dirname(os.path.realpath(__file__))
TEMPLATES = os.path.join(TOOLS, 'templates')
LAUNCHER = os.path.join(TOOLS, 'minicloud')
DRIVERS = os.path.join(TOOLS, 'minicloud_drivers')

HOST = '127.0.0.1'
PORTS = {
    'keystone': 5000, 'glance-api': 9292, 'placement-api': 8778,
    'nova-api': 8774, 'cinder-api': 8776, 'neutron-api': 9696,
    'swift-proxy': 8080, 'swift-object': 6200, 'swift-container': 6201,
    'swift-account': 6202,
    # optional component backup-flows: the port backup-flows' docs show
    'backup-flows-api': 8780,
}
PG = 'postgresql+psycopg2://postgres@127.0.0.1:5432/'
# Glance, Placement and Keystone too: on SQLite, concurrent writes fail with
# "database is locked" (seen with parallel exports, and with servers booted
# by parallel tests: Placement's allocations fail and Nova says NoValidHost).
DATABASES = ['minicloud_nova_api', 'minicloud_nova_cell0', 'minicloud_nova',
             'minicloud_cinder', 'minicloud_glance', 'minicloud_placement',
             'minicloud_keystone']
# Neutron's migrations are MySQL-only since 2025.2: it gets a MariaDB database.
MYSQL_DB = 'minicloud_neutron'
MYSQL_USER = 'minicloud'
RABBIT_VHOST = 'minicloud'
TRANSPORT = 'rabbit://guest:guest@127.0.0.1:5672/' + RABBIT_VHOST
REGION = 'RegionOne'
DEB_PACKAGES = {'qemu-img': 'qemu-utils', 'psql': 'postgresql-client',
                'mysql': 'mariadb-client', 'redis-server': 'redis-server'}
BASE_IMAGE_MIB = 64
SMALL_VOLUME_TYPE = 'minicloud-small'
SMALL_VOLUME_MIB = 64
# Empty schemas are cached after the first start (per venv and SCHEMA_REV):
# later starts copy them instead of running every migration again.
SCHEMA_REV = '2'
SECRET_NAMES = ('admin', 'service', 'demo', 'alt')


@dataclasses.dataclass(frozen=True)
class Settings:
    """Paths of one minicloud: its data (home) and its virtualenv (cache)."""

    home: str
    cache: str
    python: str
    is_root: bool
    reqs: str = os.path.join(TOOLS, 'requirements.txt')

    @property
    def state(self):
        return os.path.join(self.home, 'run', 'state.json')

    @property
    def etc(self):
        return os.path.join(self.home, 'etc')

    @property
    def log(self):
        return os.path.join(self.home, 'log')

    @property
    def clouds_yaml(self):
        return os.path.join(self.home, 'clouds.yaml')

    @functools.cached_property
    def venv(self):
        """$MINICLOUD_CACHE/venv-<hash of requirements.txt>."""
        with open(self.reqs, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        return os.path.join(self.cache, 'venv-' + digest)

    @property
    def vbin(self):
        return os.path.join(self.venv, 'bin')

    @property
    def tpl_key(self):
        """Key of the cached empty schemas: the venv and SCHEMA_REV."""
        return hashlib.sha256(
            (self.venv + SCHEMA_REV).encode()).hexdigest()[:10]

    @property
    def tpl_dir(self):
        return os.path.join(self.cache, 'db-templates-' + self.tpl_key)

    @property
    def tpl_prefix(self):
        return 'minicloud_tpl_%s_' % self.tpl_key

    def log_path(self, name):
        """log/<name>.log: a service's or a setup step's log."""
        return os.path.join(self.log, name + '.log')


def settings(environ=None):
    """The Settings for this user and environment."""
    env = os.environ if environ is None else environ
    is_root = os.geteuid() == 0
    home = env.get('MINICLOUD_HOME') or (
        '/var/lib/backup-flows-minicloud' if is_root else
        os.path.expanduser('~/.local/share/backup-flows-minicloud'))
    cache = env.get('MINICLOUD_CACHE') or (
        '/var/cache/backup-flows-minicloud' if is_root else
        os.path.expanduser('~/.cache/backup-flows-minicloud'))
    return Settings(home=os.path.abspath(home), cache=os.path.abspath(cache),
                    python=env.get('MINICLOUD_PYTHON', 'python3.11'),
                    is_root=is_root)
