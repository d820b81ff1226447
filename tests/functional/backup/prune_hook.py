"""``backup-flows-manage`` with a prune attempted before every task.

Usage: ``python -m tests.functional.backup.prune_hook RECORDS -- ARGS``
runs ``backup-flows-manage ARGS`` in this process; before each task from
``hold-repository-lock`` to the one after ``commit-backup`` (at the
fault-injection point), another opening of the repository
(its own backend and lock, as another process would have) tries a prune
that does not wait for locks and keeps nothing for a grace period: the
most destructive prune there is. What happened is written as JSON to
RECORDS: ``[{"task", "outcome": "ran"|"locked", "would_delete": n}]``
(``would_delete``: packs a prune ignoring the locks would delete then).
"""

import json
import sys
import time

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import faults
from backup_flows.cmd import manage
from backup_flows.repository import Repository
from backup_flows.repository import backends
from backup_flows.repository import config as config_mod
from backup_flows.repository import prune as prune_mod

CONF = bf_conf.CONF
FIRST, LAST = 'hold-repository-lock', 'commit-backup'


def _open(url):
    backend = backends.load_backend(url, defaults={
        'cloud': CONF.os_cloud, 'create_settle': 0.5})
    return Repository.open(url, backend=backend, settings=config_mod.Settings(
        lock_wait=0, prune_grace=0))


def _attempt(url, task):
    with _open(url) as repo:
        documents, _ = repo.load_manifests()
        now = time.time()
        repo.load_index()
        referenced, _ = prune_mod._referenced(repo, documents, now)
        would = prune_mod._gc(repo, referenced, True, None, now,
                              time.monotonic())['packs_deleted']
        try:
            repo.prune()
            outcome = 'ran'
        except exceptions.RepositoryLocked:
            outcome = 'locked'
    return {'task': task, 'outcome': outcome, 'would_delete': would}


def main():
    records_path, argv = sys.argv[1], sys.argv[3:]
    url = argv[argv.index('--repository') + 1]
    records = []
    real = faults.fail_if_requested

    def before_task(atom_name):
        real(atom_name)
        tasks = [r['task'] for r in records]
        after = tasks[tasks.index(LAST) + 1:] if LAST in tasks else []
        # From just before the lock is taken to just after the commit.
        if atom_name == FIRST or (tasks and not after):
            records.append(_attempt(url, atom_name))

    faults.fail_if_requested = before_task
    try:
        return manage.main(argv)
    finally:
        with open(records_path, 'w') as f:
            json.dump(records, f)


if __name__ == '__main__':
    sys.exit(main())
