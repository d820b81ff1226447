"""tests/flowutils.py: sharing failure-injection points between tests."""

import testtools

from tests import flowutils


class TestPart(testtools.TestCase):

    def test_every_name_is_in_exactly_one_part(self):
        names = ['n%d' % i for i in range(19)]
        for parts in (1, 2, 3, 4, 19, 25):
            shares = [flowutils.part(names, i, parts) for i in range(parts)]
            self.assertEqual(sorted(names),
                             sorted(n for share in shares for n in share))
            self.assertLessEqual(max(map(len, shares)) -
                                 min(map(len, shares)), 1)

    def test_bad_part(self):
        self.assertRaises(ValueError, flowutils.part, ['a'], 2, 2)
        self.assertRaises(ValueError, flowutils.part, ['a'], -1, 2)


class TestInjectionPoints(testtools.TestCase):

    def test_tasks_that_only_read_are_left_out(self):
        from backup_flows.flows import snapshot
        flow = snapshot.get_flow({'kind': 'image'},
                                 [{'volume_id': 'v1', 'device': '/dev/vdb'}],
                                 'pause')
        self.assertEqual(['pause-server', 'create-root-image',
                          'create-volume-snapshot-v1', 'unpause-server',
                          'record-snapshot-set', '@end'],
                         flowutils.injection_points(flow))
