"""Compare backup-flows, restic and borg on two kinds of disk images.

One run: for each data set (``synthetic``: gendisk.py; ``files``: real file
bytes, fileimage.py) generate (or reuse) day1/day2 images of ``--size``,
then for each tool: back up day 1, back up day 2, restore day 2 (checked
against the image), from a cold page cache when the host allows dropping
it. The peers are Debian's restic 0.18 (trixie) and borg 1.4
(bookworm-backports), fetched by peers.sh into a cache (run here when they
are missing). All three repositories are encrypted: backup-flows AES-256-GCM
with scrypt; restic repository version 2, compression auto (its defaults);
borg repokey-blake2 with zstd,1. ``--repeat N`` (default 3) runs every tool
N times, interleaved, and keeps the fastest run of each phase. Prints the
tool versions, throughput, CPU seconds per GiB, peak RSS, stored bytes after
day 1, bytes added by day 2, restore throughput, the ratios
backup-flows/restic and backup-flows/borg, and each target of the issue
with PASS or FAIL. Usage::

    python bench/repository/run.py --size 2G [--tools bf,restic,borg] \
        [--data synthetic,files] [--repeat N]

Peak RSS scaling: ``--size 8G --tools bf`` after a 2G run (the flatness
line compares with the newest result of the other size).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fileimage  # noqa: E402
import gendisk  # noqa: E402
import runners  # noqa: E402
import targets  # noqa: E402

BENCH_TMP = '/tmp'
GIB = 1 << 30


def drop_caches(paths):
    """Empty the page cache (or at least evict ``paths`` from it)."""
    os.sync()
    try:
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('3\n')
        return 'dropped'
    except OSError:
        for root in paths:
            for dirpath, _, files in os.walk(root):
                for name in files:
                    try:
                        fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                    except OSError:
                        continue
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    os.close(fd)
        return 'fadvise'


def du(path):
    """Bytes of the files under ``path``."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                continue
    return total


def measure(argv, env, cwd=None):
    """Run ``argv``; return ``(wall s, cpu s, peak RSS bytes, stdout)``.

    GNU time reports the child's own peak RSS (a Python parent's wait4
    would count the pages of the forked parent too).
    """
    stats = os.path.join(BENCH_TMP, 'bfbench-time')
    with open(os.devnull, 'rb') as stdin, \
            open(os.path.join(BENCH_TMP, 'bfbench-out'), 'w+b') as out, \
            open(os.path.join(BENCH_TMP, 'bfbench-err'), 'w+b') as err:
        start = time.monotonic()
        code = subprocess.call(
            ['/usr/bin/time', '-o', stats, '-f', '%U %S %M'] + argv,
            env=env, cwd=cwd, stdin=stdin, stdout=out, stderr=err)
        wall = time.monotonic() - start
        if code:
            err.seek(0)
            raise RuntimeError('%s failed (%d): %s' % (
                ' '.join(argv), code, err.read().decode()[-2000:]))
        out.seek(0)
        output = out.read().decode()
    with open(stats) as f:
        user, system, rss_kib = f.read().split()[-3:]
    return wall, float(user) + float(system), int(rss_kib) * 1024, output


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            data = f.read(8 << 20)
            if not data:
                return digest.hexdigest()
            digest.update(data)


def link_source(src_dir, image):
    target = os.path.join(src_dir, 'disk.img')
    if os.path.exists(target):
        os.unlink(target)
    os.link(image, target)


def run_tool(tool, images, work):
    """Back up day 1 and day 2, restore day 2; return the figures."""
    src_dir = os.path.join(work, 'src')
    out_dir = os.path.join(work, 'restore-' + tool.name)
    for path in (tool.repo, tool.repo + '-cache', tool.repo + '-base',
                 out_dir, src_dir):
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(src_dir)
    os.makedirs(out_dir)
    argv, cwd = tool.init()
    measure(argv, tool.env, cwd)
    figures = {}
    cache = None
    for day in ('day1', 'day2'):
        link_source(src_dir, images[day])
        cache = drop_caches([work])
        argv, cwd = tool.backup(src_dir, day)
        wall, cpu, rss, out = measure(argv, tool.env, cwd)
        tool.note_output(out)
        size = os.path.getsize(images[day])
        figures[day] = {'seconds': wall, 'throughput_mib_s': size / wall
                        / (1 << 20), 'cpu_s_per_gib': cpu / (size / GIB),
                        'peak_rss_mib': rss / (1 << 20),
                        'stored_bytes': du(tool.repo)}
    drop_caches([work])
    argv, cwd = tool.restore(out_dir)
    wall, cpu, rss, _ = measure(argv, tool.env, cwd)
    size = os.path.getsize(images['day2'])
    restored = os.path.join(out_dir, 'disk.img')
    if sha256_file(restored) != images['day2_sha256']:
        raise RuntimeError('%s restored wrong bytes' % tool.name)
    figures['restore'] = {'seconds': wall,
                          'throughput_mib_s': size / wall / (1 << 20),
                          'cpu_s_per_gib': cpu / (size / GIB),
                          'peak_rss_mib': rss / (1 << 20)}
    figures['cache'] = cache
    shutil.rmtree(out_dir, ignore_errors=True)
    return figures


def best_of(runs):
    """Per phase, the fastest of repeated runs (the machine is shared: the
    fastest run is the one least disturbed); sizes are deterministic."""
    merged = {}
    for phase in ('day1', 'day2', 'restore'):
        merged[phase] = min((r[phase] for r in runs),
                            key=lambda f: f['seconds'])
    merged['cache'] = runs[0]['cache']
    merged['runs'] = runs
    return merged


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def summarise(results):
    """Print the table and the ratios; return the summary dict."""
    rows = {}
    for name, f in results.items():
        rows[name] = {
            'backup MiB/s (day1)': f['day1']['throughput_mib_s'],
            'backup MiB/s (day2)': f['day2']['throughput_mib_s'],
            'CPU s/GiB (day1)': f['day1']['cpu_s_per_gib'],
            'peak RSS MiB (backup)': max(f['day1']['peak_rss_mib'],
                                         f['day2']['peak_rss_mib']),
            'stored MiB after day1': f['day1']['stored_bytes'] / (1 << 20),
            'day2 added MiB': (f['day2']['stored_bytes'] -
                               f['day1']['stored_bytes']) / (1 << 20),
            'restore MiB/s': f['restore']['throughput_mib_s'],
            'CPU s/GiB (restore)': f['restore']['cpu_s_per_gib'],
            'peak RSS MiB (restore)': f['restore']['peak_rss_mib'],
        }
    names = list(rows)
    metrics = list(rows[names[0]])
    print('%-24s' % 'metric' + ''.join('%15s' % n for n in names))
    for metric in metrics:
        print('%-24s' % metric +
              ''.join('%15.1f' % rows[n][metric] for n in names))
    ratios = {}
    bf = rows.get('backup-flows')
    for peer_name in ('restic', 'borg'):
        if bf and peer_name in rows:
            ratios[peer_name] = {
                m: bf[m] / rows[peer_name][m] if rows[peer_name][m] else None
                for m in metrics}
            print('backup-flows/%s: ' % peer_name + ', '.join(
                '%s %.2f' % (m, v) for m, v in ratios[peer_name].items()
                if v is not None))
    return {'rows': rows, 'ratios': ratios}


def prepare(data, args, size):
    """Generate or reuse one data set's images; return (work, images)."""
    work = os.path.join(args.work_dir, '%s%s-%d' % (
        '' if data == 'synthetic' else data + '-', args.size, args.seed))
    os.makedirs(work, exist_ok=True)
    images = {'day1': os.path.join(work, 'day1.img'),
              'day2': os.path.join(work, 'day2.img')}
    present = (os.path.exists(images['day2']) and
               os.path.getsize(images['day1']) == size)
    argv = ['--size', str(size), '--seed', str(args.seed), '--out', work]
    if data == 'synthetic':
        script = 'gendisk.py'
    else:
        script = 'fileimage.py'
        argv += ['--root', args.root]
        try:
            want = fileimage.stamp(args.root, size, args.seed)
        except ValueError as e:
            sys.exit('run.py: %s' % e)
        try:
            with open(os.path.join(work, 'stamp')) as f:
                present = present and f.read().strip() == want
        except OSError:
            present = False
    if present:
        print('%s: reusing the %s images in %s' % (data, args.size, work))
    else:
        print('%s: generating %s images in %s' % (data, args.size, work),
              flush=True)
        # In a child process: the generator's memory must not inflate the
        # parent that forks the measured tools.
        subprocess.check_call([sys.executable, os.path.join(HERE, script)] +
                              argv)
    if data == 'files':
        with open(os.path.join(work, 'stamp')) as f:
            print('files: %s' % f.read().strip())
    images['day2_sha256'] = sha256_file(images['day2'])
    return work, images


def run_data_set(data, args, size, keys):
    """All runs of all tools on one data set; return the results."""
    work, images = prepare(data, args, size)
    runs = {}
    for attempt in range(args.repeat):
        for key in keys:
            tool = runners.TOOLS[key](work)
            before = loadavg()
            print('%s: running %s (run %d, load %s)' % (
                data, tool.name, attempt + 1, before), flush=True)
            figures = run_tool(tool, images, work)
            figures['load'] = [before, loadavg()]
            runs.setdefault(tool.name, []).append(figures)
            shutil.rmtree(tool.repo, ignore_errors=True)
            print(json.dumps(figures), flush=True)
    return {name: best_of(tool_runs) for name, tool_runs in runs.items()}


def report(data, args, size, results, results_dir):
    """Print one data set's table, ratios and targets; return them."""
    print()
    print('== %s data set: %s image, best of %d run(s) per tool, %d CPUs, '
          'load average now %s' % (data, args.size, args.repeat,
                                   os.cpu_count(), loadavg()))
    summary = summarise(results)
    checks = targets.check(summary['rows'])
    bf = summary['rows'].get('backup-flows')
    if bf:
        checks.append(targets.rss_flatness(results_dir, data, size,
                                           targets.peak_rss(bf)))
    for line, _ in checks:
        print(line)
    return {'results': results, 'summary': summary,
            'targets': [{'line': line, 'passed': passed}
                        for line, passed in checks]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='2G')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--work-dir', default='/tmp/bfbench')
    parser.add_argument('--tools', default='bf,restic,borg')
    parser.add_argument('--data', default='synthetic,files',
                        help='Data sets: synthetic (gendisk.py), files '
                             '(real file bytes, fileimage.py).')
    parser.add_argument('--root', default='/usr',
                        help='Files of the "files" data set.')
    parser.add_argument('--bf-commit', metavar='REV',
                        help='Benchmark backup_flows as committed in REV '
                             '(git archive into --work-dir) instead of the '
                             'work tree.')
    parser.add_argument('--repeat', type=int, default=3,
                        help='Run each tool this many times (interleaved) '
                             'and keep the fastest run of each phase.')
    args = parser.parse_args()
    keys = args.tools.split(',')
    datas = args.data.split(',')
    unknown = ([k for k in keys if k not in runners.TOOLS] +
               [d for d in datas if d not in ('synthetic', 'files')])
    if unknown or args.repeat < 1:
        parser.error('unknown tool or data set: %s' % ', '.join(unknown)
                     if unknown else '--repeat must be at least 1')
    try:
        size = gendisk.parse_size(args.size) // gendisk.BLOCK * gendisk.BLOCK
    except (ValueError, IndexError):
        parser.error('bad --size: %s' % args.size)
    if args.bf_commit:
        try:
            runners.BackupFlows.use_commit(args.bf_commit, args.work_dir)
        except subprocess.CalledProcessError:
            parser.error('--bf-commit: no commit %s' % args.bf_commit)
    versions = [runners.TOOLS[key](args.work_dir).version() for key in keys]
    for line in versions:
        print('version: %s' % line)
    print('settings: backup-flows AES-256-GCM + scrypt, zstd 1; restic '
          'repository v2, compression auto; borg repokey-blake2, zstd,1')
    results_dir = os.path.normpath(os.path.join(HERE, '..', 'results'))
    os.makedirs(results_dir, exist_ok=True)
    saved = {'size': size, 'versions': versions, 'datasets': {}}
    for data in datas:
        results = run_data_set(data, args, size, keys)
        saved['datasets'][data] = report(data, args, size, results,
                                         results_dir)
    path = os.path.join(results_dir, 'repository-%s-%d.json' % (
        args.size, int(time.time())))
    with open(path, 'w') as f:
        json.dump(saved, f, indent=2)
    print('results written to %s' % os.path.relpath(path))


if __name__ == '__main__':
    main()
