"""Databases and the message vhost: create them empty, migrate them, and
cache the empty schemas so later starts copy instead of migrating.

The cache (per venv and paths.SCHEMA_REV) is a set of PostgreSQL template
databases minicloud_tpl_<key>_* and a dump of the Neutron schema in
$MINICLOUD_CACHE/db-templates-<key>.
"""

import os
import shutil
import subprocess
import time

from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import util

PSQL = ['psql', '-h', paths.HOST, '-U', 'postgres', '-d', 'postgres']


def psql(s, *sql):
    """Run SQL statements on PostgreSQL as postgres (stop at an error)."""
    cmd = PSQL + ['-v', 'ON_ERROR_STOP=1', '-q']
    for stmt in sql:
        cmd += ['-c', stmt]
    procs.run(s, cmd, 'databases')


def _psql_query(sql):
    return subprocess.run(PSQL + ['-tA', '-c', sql], capture_output=True,
                          text=True)


def recreate_databases(s):
    """Drop and create the PostgreSQL databases, empty."""
    stmts = []
    for db in paths.DATABASES:
        stmts.append('DROP DATABASE IF EXISTS %s WITH (FORCE)' % db)
        stmts.append('CREATE DATABASE %s' % db)
    psql(s, *stmts)


def recreate_mysql_database(s, pw):
    """Drop and create Neutron's MariaDB database; (re)set its user."""
    db, u = paths.MYSQL_DB, paths.MYSQL_USER
    sql = (f'DROP DATABASE IF EXISTS {db}; '
           f'CREATE DATABASE {db} CHARACTER SET utf8mb4; '
           f"CREATE USER IF NOT EXISTS '{u}'@'127.0.0.1' "
           f"IDENTIFIED BY '{pw}'; "
           f"ALTER USER '{u}'@'127.0.0.1' IDENTIFIED BY '{pw}'; "
           f"GRANT ALL PRIVILEGES ON {db}.* TO '{u}'@'127.0.0.1'; ")
    procs.run(s, ['mysql', '-u', 'root', '-e', sql], 'databases')


def recreate_vhost(s):
    """Drop and create the RabbitMQ vhost, guest allowed."""
    ctl = shutil.which('rabbitmqctl') or '/usr/sbin/rabbitmqctl'
    vhost = paths.RABBIT_VHOST
    procs.run(s, [ctl, '-q', 'delete_vhost', vhost], 'rabbitmq',
              ok=range(256))
    procs.run(s, [ctl, '-q', 'add_vhost', vhost], 'rabbitmq')
    procs.run(s, [ctl, '-q', 'set_permissions', '-p', vhost, 'guest',
                  '.*', '.*', '.*'], 'rabbitmq')


def templates_ready(s):
    """Whether the cached empty schemas are complete."""
    if not os.path.exists(os.path.join(s.tpl_dir, '.complete')):
        return False
    out = _psql_query("SELECT count(*) FROM pg_database WHERE datname LIKE "
                      "'%s%%'" % s.tpl_prefix)
    return (out.returncode == 0
            and out.stdout.strip() == str(len(paths.DATABASES)))


def save_templates(s):
    """Keep the freshly migrated empty schemas for the next starts."""
    shutil.rmtree(s.tpl_dir, ignore_errors=True)
    os.makedirs(s.tpl_dir)
    out = _psql_query("SELECT datname FROM pg_database WHERE datname LIKE "
                      "'minicloud\\_tpl\\_%'")
    stmts = ['DROP DATABASE IF EXISTS %s WITH (FORCE)' % d
             for d in out.stdout.split()]
    stmts += ['CREATE DATABASE %s%s TEMPLATE %s' % (s.tpl_prefix, db, db)
              for db in paths.DATABASES]
    psql(s, *stmts)
    with open(os.path.join(s.tpl_dir, 'neutron.sql'), 'wb') as f:
        subprocess.run(['mysqldump', '-u', 'root', paths.MYSQL_DB], stdout=f,
                       check=True)
    with open(os.path.join(s.tpl_dir, '.complete'), 'w') as f:
        f.write(time.ctime() + '\n')


def restore_templates(s):
    """Create the server databases from the cached empty schemas."""
    def pg():
        stmts = []
        for db in paths.DATABASES:
            stmts.append('DROP DATABASE IF EXISTS %s WITH (FORCE)' % db)
            stmts.append('CREATE DATABASE %s TEMPLATE %s%s'
                         % (db, s.tpl_prefix, db))
        psql(s, *stmts)

    def my():
        with open(os.path.join(s.tpl_dir, 'neutron.sql'), 'rb') as f:
            rc = subprocess.call(['mysql', '-u', 'root', paths.MYSQL_DB],
                                 stdin=f)
        if rc:
            raise util.Failure('restoring the neutron schema failed')

    util.parallel([pg, my])


def db_syncs(s):
    """The schema migrations, one callable per service (run in parallel)."""
    etc, vbin = s.etc, s.vbin
    nconf = ['--config-file', f'{etc}/nova/nova.conf']
    nm = f'{vbin}/nova-manage'

    def manage(cmd, conf, log, *args):
        procs.run(s, [f'{vbin}/{cmd}', '--config-file', f'{etc}/{conf}']
                  + list(args), log)

    def nova():
        procs.run(s, [nm] + nconf + ['api_db', 'sync'], 'nova-setup')
        procs.run(s, [nm] + nconf + [
            'cell_v2', 'map_cell0', '--database_connection',
            paths.PG + 'minicloud_nova_cell0'], 'nova-setup')
        procs.run(s, [nm] + nconf + ['cell_v2', 'create_cell', '--name',
                                     'cell1'], 'nova-setup')
        procs.run(s, [nm] + nconf + ['db', 'sync'], 'nova-setup')

    return [
        lambda: manage('keystone-manage', 'keystone/keystone.conf',
                       'keystone-setup', 'db_sync'),
        lambda: manage('glance-manage', 'glance/glance-api.conf',
                       'glance-setup', 'db_sync'),
        lambda: manage('placement-manage', 'placement/placement.conf',
                       'placement-setup', 'db', 'sync'),
        nova,
        lambda: manage('cinder-manage', 'cinder/cinder.conf',
                       'cinder-setup', 'db', 'sync'),
        lambda: manage('neutron-db-manage', 'neutron/neutron.conf',
                       'neutron-setup', 'upgrade', 'heads'),
    ]
