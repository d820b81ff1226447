"""backup-flows side of the benchmark: one operation per process.

The passphrase comes from BACKUP_FLOWS_REPOSITORY_PASSPHRASE (unset: an
unencrypted repository)::

    python bf_tool.py init REPO
    python bf_tool.py backup REPO IMAGE        # prints the backup id
    python bf_tool.py restore REPO BACKUP_ID OUTPUT
"""

import argparse
import os
import sys

from backup_flows.repository import Repository
from backup_flows.repository import Secret


def _secret():
    passphrase = os.environ.get('BACKUP_FLOWS_REPOSITORY_PASSPHRASE')
    return Secret(passphrase=passphrase) if passphrase else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('op', choices=['init', 'backup', 'restore'])
    parser.add_argument('repo')
    parser.add_argument('args', nargs='*')
    args = parser.parse_args()
    secret = _secret()
    if args.op == 'init':
        Repository.init(args.repo, encrypted=secret is not None,
                        secret=secret).close()
        return
    with Repository.open(args.repo, secret=secret) as repo:
        if args.op == 'backup':
            with open(args.args[0], 'rb', buffering=0) as image, \
                    repo.start_backup() as session:
                session.write_disk('disk', image)
                print(session.commit('bench'))
        else:
            repo.restore_disk(args.args[0], 'disk', args.args[1])


if __name__ == '__main__':
    sys.exit(main())
