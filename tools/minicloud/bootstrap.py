"""Setup before the services start: the data directories, Keystone's keys
and bootstrap, Swift's rings."""

import grp
import os
import pwd
import shutil

from tools.minicloud import paths
from tools.minicloud import procs
from tools.minicloud import util

DATA_DIRS = ('etc', 'log', 'run', 'keystone/fernet-keys',
             'keystone/credential-keys', 'glance/images', 'glance/staging',
             'glance/tasks', 'placement', 'nova/instances', 'cinder/volumes',
             'cinder/conversion', 'neutron', 'swift/node/d1', 'locks')
# Keystone's key repositories hold secrets: readable by their owner only
# (keystone warns about world-readable ones on every token).
PRIVATE_DIRS = ('keystone/fernet-keys', 'keystone/credential-keys')
SWIFT_RINGS = (('account', 6202), ('container', 6201), ('object', 6200))


def wipe_home(s):
    """Empty $MINICLOUD_HOME and create its directories."""
    if os.path.isdir(s.home):
        for name in os.listdir(s.home):
            path = os.path.join(s.home, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    for d in DATA_DIRS:
        os.makedirs(os.path.join(s.home, d), exist_ok=True)
    for d in PRIVATE_DIRS:
        os.chmod(os.path.join(s.home, d), 0o700)


def build_rings(s):
    """Build Swift's three rings: one device, one replica."""
    rb = f'{s.vbin}/swift-ring-builder'

    def one(name, port):
        b = f'{s.etc}/swift/{name}.builder'
        procs.run(s, [rb, b, 'create', '8', '1', '1'], 'swift-rings')
        procs.run(s, [rb, b, 'add', f'r1z1-{paths.HOST}:{port}/d1', '1'],
                  'swift-rings')
        procs.run(s, [rb, b, 'rebalance'], 'swift-rings', ok=(0, 1))

    util.parallel([lambda n=n, p=p: one(n, p) for n, p in SWIFT_RINGS])


def keystone_setup(s, admin_pw):
    """Keystone's fernet and credential keys, then its bootstrap."""
    conf = ['--config-file', f'{s.etc}/keystone/keystone.conf']
    km = f'{s.vbin}/keystone-manage'
    owner = ['--keystone-user', pwd.getpwuid(os.geteuid()).pw_name,
             '--keystone-group', grp.getgrgid(os.getegid()).gr_name]
    url = f'http://{paths.HOST}:5000/v3/'
    util.parallel([
        lambda: procs.run(s, [km] + conf + ['fernet_setup'] + owner,
                          'keystone-setup'),
        lambda: procs.run(s, [km] + conf + ['credential_setup'] + owner,
                          'keystone-setup'),
        lambda: procs.run(s, [km] + conf + [
            'bootstrap', '--bootstrap-password', admin_pw,
            '--bootstrap-admin-url', url,
            '--bootstrap-internal-url', url,
            '--bootstrap-public-url', url,
            '--bootstrap-region-id', paths.REGION], 'keystone-setup')])
