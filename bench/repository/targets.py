"""The targets of the repository benchmark (issue 9, item 7), checked.

Ratios are backup-flows/restic from the same run; the rest are
backup-flows' own figures. ``check`` returns one printable line per target
with PASS or FAIL (or n/a when the run lacks a tool); ``rss_flatness``
compares backup-flows' peak RSS with the newest result of another image
size for the same data set.
"""

import glob
import json
import os

# (label, metric, peer or None for an absolute figure, '>=' or '<=', limit)
TARGETS = [
    ('day-1 backup throughput', 'backup MiB/s (day1)', 'restic', '>=', 3.0),
    ('day-2 backup throughput', 'backup MiB/s (day2)', 'restic', '>=', 3.0),
    ('restore throughput', 'restore MiB/s', 'restic', '>=', 1.5),
    ('day-2 added bytes', 'day2 added MiB', 'restic', '<=', 0.3),
    ('CPU s per GiB backed up (day 1)', 'CPU s/GiB (day1)', None, '<=', 4.0),
    ('peak RSS MiB (backup, restore)', 'peak RSS MiB', None, '<=', 200.0),
]
# Peak RSS may grow this much from the smaller image to the larger one
# (RSS varies by under 1 MiB between runs of one size).
FLAT = 1.05
BF = 'backup-flows'


def human(size):
    """2147483648 -> '2G', 536870912 -> '512M'."""
    for unit, shift in (('G', 30), ('M', 20)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return '%d%s' % (size >> shift, unit)
    return str(size)


def peak_rss(row):
    return max(row['peak RSS MiB (backup)'], row['peak RSS MiB (restore)'])


def _value(rows, metric, peer):
    bf = rows.get(BF)
    if bf is None or (peer and peer not in rows):
        return None
    get = peak_rss if metric == 'peak RSS MiB' else (lambda r: r[metric])
    if peer is None:
        return get(bf)
    return get(bf) / get(rows[peer]) if get(rows[peer]) else None


def check(rows):
    """``[(line, passed or None)]`` for every target."""
    lines = []
    for label, metric, peer, op, limit in TARGETS:
        value = _value(rows, metric, peer)
        what = '%s%s' % (label, ' vs %s' % peer if peer else '')
        if value is None:
            lines.append(('target %-44s %8s  %s %-5g n/a' % (
                what, '-', op, limit), None))
            continue
        passed = value >= limit if op == '>=' else value <= limit
        # Absolute figures with 3 decimals: 4.004 must not print as 4.00.
        shown = '%7.2fx' % value if peer else '%8.3f' % value
        lines.append(('target %-44s %s %s %-5g %s' % (
            what, shown, op, limit,
            'PASS' if passed else 'FAIL'), passed))
    return lines


def rss_flatness(results_dir, data, size, rss):
    """A line comparing ``rss`` with the newest other-size run, or None."""
    newest = None
    for path in glob.glob(os.path.join(results_dir, 'repository-*.json')):
        try:
            with open(path) as f:
                saved = json.load(f)
            other = saved['datasets'][data]
            row = other['summary']['rows'][BF]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if saved['size'] == size:
            continue
        mtime = os.path.getmtime(path)
        if newest is None or mtime > newest[0]:
            newest = (mtime, saved['size'], peak_rss(row))
    if newest is None:
        return ('target %-44s %8s  (no run of another size in %s)' % (
            'peak RSS flat across sizes', '-', results_dir), None)
    _, other_size, other_rss = newest
    (small, small_rss), (large, large_rss) = sorted(
        [(size, rss), (other_size, other_rss)])
    growth = large_rss / small_rss
    passed = growth <= FLAT
    return ('target %-44s %7.2fx <= %-5g %s' % (
        'peak RSS flat: %s %.1f MiB -> %s %.1f MiB' % (
            human(small), small_rss, human(large), large_rss),
        growth, FLAT, 'PASS' if passed else 'FAIL'), passed)
