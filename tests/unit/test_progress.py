"""progress.py: a copy's progress reported to update_progress, throttled."""

import testtools

from backup_flows import progress

_MIB = 1 << 20


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class ProgressMeterTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.reports = []

    def report(self, fraction, **details):
        self.reports.append((round(fraction, 4), details))

    def meter(self, total=100 * _MIB, **kwargs):
        return progress.ProgressMeter(self.report, total=total,
                                      clock=self.clock, disk='vda', **kwargs)

    def copy(self, meter, chunks, chunk=_MIB, seconds=0.01):
        for _ in range(chunks):
            self.clock.now += seconds
            meter.add(chunk)

    def test_first_bytes_are_reported_with_the_details(self):
        meter = self.meter()
        meter.add(_MIB)
        self.assertEqual(
            [(0.01, {'done': _MIB, 'total': 100 * _MIB, 'disk': 'vda'})],
            self.reports)

    def test_a_fast_copy_reports_at_most_every_interval(self):
        meter = self.meter()
        # 100 MiB in 1 MiB chunks at 100 MiB/s: 1 s
        self.copy(meter, 100)
        meter.finish()
        # the first chunk, then every 0.5 s, then the end
        self.assertEqual([0.01, 0.51, 1.0], [r[0] for r in self.reports])
        self.assertEqual(100 * _MIB, self.reports[-1][1]['done'])
        self.assertEqual(3, meter.updates)

    def test_a_long_copy_reports_about_every_percent(self):
        meter = self.meter(total=1000 * _MIB)
        # 1000 MiB at 10 MiB/s: 100 s, 1 % every second
        self.copy(meter, 1000, seconds=0.1)
        meter.finish()
        fractions = [r[0] for r in self.reports]
        self.assertEqual(101, len(fractions))
        # 0.1 %, then every 1 %, then the end (100 %)
        steps = [b - a for a, b in zip(fractions[:-2], fractions[1:-1],
                                       strict=True)]
        self.assertTrue(all(0.0099 < s < 0.0101 for s in steps), steps)
        self.assertEqual(1.0, fractions[-1])

    def test_a_slow_copy_still_reports_when_idle(self):
        meter = self.meter(total=1000 * _MIB)
        # 1 MiB every 2 s: 1 % takes 20 s, but it reports every 5 s
        self.copy(meter, 10, seconds=2.0)
        self.assertEqual([0.001, 0.004, 0.007, 0.01],
                         [r[0] for r in self.reports])

    def test_unknown_total_reports_bytes_by_time(self):
        meter = self.meter(total=None)
        self.copy(meter, 10, seconds=0.25)
        meter.finish()
        self.assertEqual([0.0] * 6, [r[0] for r in self.reports])
        self.assertEqual([_MIB, 3 * _MIB, 5 * _MIB, 7 * _MIB, 9 * _MIB,
                          10 * _MIB],
                         [r[1]['done'] for r in self.reports])
        self.assertIsNone(self.reports[0][1]['total'])

    def test_finish_does_not_repeat_the_last_report(self):
        meter = self.meter(total=_MIB)
        meter.add(_MIB)
        meter.finish()
        self.assertEqual(1, len(self.reports))
