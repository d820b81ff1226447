"""Summarise subunit v2 streams of several test runs: the slowest tests, then
one line ``N passed, N failed`` (``, N skipped`` when any were skipped).

    python tools/testreport.py [--slowest N] RUN.subunit [RUN.subunit ...]

tools/test.sh writes one stream per stestr run (``stestr last --subunit``)
and ends with this report. A stream that cannot be read counts as one
failure: a run that did not report is not a run that passed.
"""

import argparse
import sys

import subunit
import testtools

FAILED = ('fail', 'uxsuccess')


def read_stream(path):
    """{test id: (status, seconds)} of one subunit v2 file."""
    tests = {}

    def on_test(test):
        start, stop = test['timestamps']
        seconds = (stop - start).total_seconds() if start and stop else 0.0
        tests[test['id']] = (test['status'], seconds)

    result = testtools.StreamToDict(on_test)
    with open(path, 'rb') as stream:
        case = subunit.ByteStreamToStreamResult(
            stream, non_subunit_name='stdout')
        result.startTestRun()
        try:
            case.run(result)
        finally:
            result.stopTestRun()
    return tests


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--slowest', type=int, default=10)
    parser.add_argument('streams', nargs='+')
    args = parser.parse_args(argv)
    tests = {}
    unreadable = 0
    for path in args.streams:
        try:
            tests.update(read_stream(path))
        except (OSError, ValueError) as e:
            print('cannot read test results %s: %s' % (path, e))
            unreadable += 1
    # process ids and other non-test entries carry no status worth counting
    tests = {k: v for k, v in tests.items() if v[0] != 'exists'}
    passed = sum(1 for status, _ in tests.values() if status == 'success')
    failed = unreadable + sum(1 for status, _ in tests.values()
                              if status in FAILED)
    skipped = sum(1 for status, _ in tests.values() if status == 'skip')
    slowest = sorted(tests.items(), key=lambda item: -item[1][1])
    print('%d slowest tests:' % min(args.slowest, len(slowest)))
    for test_id, (status, seconds) in slowest[:args.slowest]:
        print('%8.1f s  %s%s' % (seconds, test_id,
                                 '' if status == 'success' else
                                 '  (%s)' % status))
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    print(line)
    return 0 if failed == 0 and passed else 1


if __name__ == '__main__':
    sys.exit(main())
