"""Benchmark: the cost of task progress updates in the flow persistence.

TaskFlow saves every ``update_progress`` of a task in its atom detail.
This runs, through ``backup_flows.engine`` with its SQLite persistence in a
temporary ``state_path``, a flow of ``--disks`` tasks (side by side with
the parallel engine) that each count a copy of ``--size-mib`` MiB in
``--chunk-kib`` KiB chunks, as the disk copies do, without copying: a fake
clock advances as if the copy ran at ``--rate`` MiB/s. Each task reports
nothing (the baseline), every chunk (unthrottled) or through
``ProgressMeter`` (throttled); each run is timed, and its time over the
baseline is what its updates cost. Not a test.

    .venv/bin/python bench/progress_cost.py [--size-mib 1024] [--chunk-kib 128]
"""

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from taskflow.patterns import unordered_flow  # noqa: E402

from backup_flows import conf as bf_conf  # noqa: E402
from backup_flows import engine  # noqa: E402
from backup_flows import progress  # noqa: E402
from backup_flows.tasks import base  # noqa: E402

CONF = bf_conf.CONF


class CountCopy(base.BackupFlowsTask):
    """Counts a simulated copy (reverts nothing)."""

    def execute(self, size, chunk, rate, mode):
        now = [0.0]
        if mode == 'none':
            return 0
        if mode == 'throttled':
            meter = progress.ProgressMeter(self.update_progress, total=size,
                                           clock=lambda: now[0],
                                           disk=self.name)
            report = meter.add
        else:
            done = [0]

            def report(count):
                done[0] += count
                self.update_progress(done[0] / size, done=done[0],
                                     total=size, disk=self.name)
        for _ in range(size // chunk):
            now[0] += chunk / rate
            report(chunk)
        if mode == 'throttled':
            meter.finish()
            return meter.updates
        return size // chunk


def get_flow(disks, size, chunk, rate, mode):
    flow = unordered_flow.Flow('progress-cost')
    for number in range(disks):
        flow.add(CountCopy(name='copy-%d' % number, provides='n%d' % number,
                           inject={'size': size, 'chunk': chunk,
                                   'rate': rate, 'mode': mode}))
    return flow


def run(args, mode):
    start = time.monotonic()
    _, store = engine.run_flow('progress-cost', {
        'disks': args.disks, 'size': args.size_mib << 20,
        'chunk': args.chunk_kib << 10, 'rate': args.rate * (1 << 20),
        'mode': mode}, store={})
    elapsed = time.monotonic() - start
    return elapsed, sum(v for k, v in store.items() if k.startswith('n'))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--disks', type=int, default=2)
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--chunk-kib', type=int, default=128)
    parser.add_argument('--rate', type=float, default=200.0,
                        help='simulated copy speed, MiB/s')
    parser.add_argument('--engine', default='parallel')
    parser.add_argument('--throttled-only', action='store_true',
                        help='skip the unthrottled run (long on big disks)')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state_path:
        CONF([], project='backup-flows', default_config_files=[])
        CONF.set_override('state_path', state_path)
        CONF.set_override('engine', args.engine, group='engine')
        engine.plugins.load_flow_factory = lambda name: get_flow
        run(args, 'none')  # warm up: schema, imports
        modes = ['none', 'every-chunk', 'throttled']
        if args.throttled_only:
            modes.remove('every-chunk')
        results = {mode: run(args, mode) for mode in modes}
    copy_s = args.size_mib / args.rate
    print('%d disks of %d MiB in %d KiB chunks (a %.1f s copy at %.0f MiB/s '
          'each), %s engine, SQLite persistence:'
          % (args.disks, args.size_mib, args.chunk_kib, copy_s, args.rate,
             args.engine))
    baseline = results['none'][0]
    print('  no updates:  flow run %.3f s' % baseline)
    for mode in modes[1:]:
        elapsed, updates = results[mode]
        print('  %-11s %6d updates, flow run %.3f s: %.3f s for the '
              'updates, %.1f ms each'
              % (mode + ':', updates, elapsed, elapsed - baseline,
                 max(0.0, elapsed - baseline) * 1000 / updates))


if __name__ == '__main__':
    main()
