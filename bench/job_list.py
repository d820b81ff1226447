"""Benchmark: ``job list`` with many jobs in the flow database.

Fills a temporary SQLite flow database with ``--jobs`` finished jobs shaped
like real ones (a logbook, a flow detail with its factory details, and
``--atoms`` atom details each holding a result of about 1 KiB), then times,
in the same run:

* ``backup-flows-manage job list`` (the whole CLI process) and
  ``--format json job list``;
* loading every job the way ``job list`` did before (every logbook with
  its flow details and atoms through TaskFlow's connection), in-process.

Prints the median of ``--repeat`` runs of each as it goes. Target: under
2 s for 10,000 jobs. Filling takes minutes: ``--data DIR`` reuses the
database of an earlier run (its path is printed). Not a test.

    .venv/bin/python bench/job_list.py [--jobs 10000] [--atoms 12]
        [--data DIR] [--no-old-way]
"""

import argparse
import contextlib
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

from oslo_utils import uuidutils
from taskflow import states
from taskflow.persistence import models

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from backup_flows import conf as bf_conf  # noqa: E402
from backup_flows.engine import persistence  # noqa: E402


def fill(backend, jobs, atoms):
    """Save ``jobs`` finished jobs in one transaction per 500."""
    created = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    with contextlib.closing(backend.get_connection()) as conn:
        for n in range(jobs):
            job_id = uuidutils.generate_uuid()
            book = models.LogBook('backup-create', uuid=job_id)
            flow_detail = models.FlowDetail('backup-create', uuid=job_id)
            stamp = (created + datetime.timedelta(minutes=n)).isoformat()
            flow_detail.meta.update({
                'flow': 'backup-create', 'created_at': stamp,
                'updated_at': stamp, 'error': None,
                'factory': {'name': 'backup_flows.flows.backup.get_flow',
                            'args': [],
                            'kwargs': {'disks': ['root', 'vdb']}}})
            flow_detail.state = states.SUCCESS
            for a in range(atoms):
                atom = models.TaskDetail('task-%d' % a,
                                         uuid=uuidutils.generate_uuid())
                atom.state = states.SUCCESS
                atom.results = {'id': job_id, 'padding': 'x' * 1000}
                flow_detail.add(atom)
            book.add(flow_detail)
            conn.save_logbook(book)


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.monotonic()
        fn()
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--jobs', type=int, default=10000)
    parser.add_argument('--atoms', type=int, default=12)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--data', help='reuse this filled data directory')
    parser.add_argument('--no-old-way', action='store_true',
                        help='skip loading every logbook with its atoms')
    args = parser.parse_args()
    data = args.data or tempfile.mkdtemp(prefix='bench-job-list-')
    env = dict(os.environ, XDG_DATA_HOME=data)
    state_path = os.path.join(data, 'backup-flows')
    bf_conf.CONF([], project='backup-flows', default_config_files=[])
    bf_conf.CONF.set_override('state_path', state_path)
    backend = persistence.get_backend()
    if not args.data:
        start = time.monotonic()
        fill(backend, args.jobs, args.atoms)
        print('filled %d jobs x %d atoms in %.1f s' % (
            args.jobs, args.atoms, time.monotonic() - start))
    print('data %s: %.0f MiB database' % (data, os.path.getsize(
        os.path.join(state_path, 'flows.sqlite')) / 2 ** 20), flush=True)
    cli = [sys.executable, '-m', 'backup_flows.cmd.manage']

    def run(*argv):
        proc = subprocess.run(cli + list(argv), env=env, check=True,
                              capture_output=True, text=True)
        return proc.stdout

    jobs = run('job', 'list').count('\n') - 4  # borders and header

    def load_everything():
        with contextlib.closing(backend.get_connection()) as conn:
            return [fd for book in conn.get_logbooks() for fd in book]

    runs = [('job list (CLI process)', lambda: run('job', 'list')),
            ('job list --format json (CLI)',
             lambda: run('--format', 'json', 'job', 'list'))]
    if not args.no_old_way:
        runs.append(('every logbook with its atoms', load_everything))
    for name, fn in runs:
        seconds = timed(fn, 1 if fn is load_everything else args.repeat)
        print('%-34s median %6.2f s' % (name, seconds), flush=True)
        if name == 'job list (CLI process)':
            print('job list with %d jobs: %.2f s (target < 2 s: %s)'
                  % (jobs, seconds, 'met' if seconds < 2 else 'NOT met'),
                  flush=True)


if __name__ == '__main__':
    main()
