"""tools/testreport.py: the closing report of tools/test.sh."""

import datetime
import io
import os

import fixtures
import subunit
import testtools

from tools import testreport

T0 = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


def stream(*tests):
    """A subunit v2 byte stream of (test id, status, seconds) results."""
    out = io.BytesIO()
    result = subunit.StreamResultToBytes(out)
    for test_id, status, seconds in tests:
        result.status(test_id=test_id, test_status='inprogress',
                      timestamp=T0)
        result.status(test_id=test_id, test_status=status,
                      timestamp=T0 + datetime.timedelta(seconds=seconds))
    return out.getvalue()


class TestReport(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.out = self.useFixture(fixtures.StringStream('stdout'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out.stream))

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def report(self, *argv):
        rc = testreport.main(list(argv))
        self.out.stream.flush()
        return rc, self.out.getDetails()['stdout'].as_text().splitlines()

    def test_counts_every_stream_and_lists_the_slowest_first(self):
        unit = self.write('unit', stream(('u.a', 'success', 1),
                                         ('u.b', 'success', 30)))
        func = self.write('func', stream(('f.a', 'success', 120),
                                         ('f.b', 'fail', 5),
                                         ('f.c', 'success', 60)))
        rc, lines = self.report('--slowest', '3', unit, func)
        self.assertEqual(1, rc)
        self.assertEqual('3 slowest tests:', lines[0])
        self.assertEqual(['f.a', 'f.c', 'u.b'],
                         [line.split()[2] for line in lines[1:4]])
        self.assertEqual('4 passed, 1 failed', lines[-1])
        self.assertEqual(5, len(lines))

    def test_all_passed(self):
        path = self.write('unit', stream(('u.a', 'success', 1)))
        rc, lines = self.report(path)
        self.assertEqual((0, '1 passed, 0 failed'), (rc, lines[-1]))

    def test_skips_are_counted(self):
        path = self.write('unit', stream(('u.a', 'success', 1),
                                         ('u.b', 'skip', 0)))
        rc, lines = self.report(path)
        self.assertEqual((0, '1 passed, 0 failed, 1 skipped'),
                         (rc, lines[-1]))

    def test_a_missing_stream_is_a_failure(self):
        path = self.write('unit', stream(('u.a', 'success', 1)))
        rc, lines = self.report(path, os.path.join(self.dir, 'absent'))
        self.assertEqual((1, '1 passed, 1 failed'), (rc, lines[-1]))
        self.assertIn('cannot read test results', '\n'.join(lines))

    def test_nothing_run_is_not_a_success(self):
        path = self.write('empty', b'')
        rc, lines = self.report(path)
        self.assertEqual((1, '0 passed, 0 failed'), (rc, lines[-1]))
