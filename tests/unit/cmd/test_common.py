"""The CLI's shared argument checks."""

import testtools

from backup_flows import exceptions
from backup_flows.cmd import common


class RetentionTestCase(testtools.TestCase):

    def test_only_the_counts_given(self):
        self.assertEqual({'keep_last': 3, 'keep_daily': 0},
                         common.retention(keep_last='3', keep_hourly=None,
                                          keep_daily='0'))

    def test_one_line_naming_the_option(self):
        for value in ('-1', 'x', '1.5', ''):
            exc = self.assertRaises(exceptions.InvalidInput,
                                    common.retention, keep_weekly=value)
            self.assertEqual("Invalid input: --keep-weekly %r is not a "
                             "count (a whole number >= 0)" % value, str(exc))
            self.assertEqual(exceptions.EXIT_USAGE, exc.exit_code)

    def test_declares_every_option(self):
        @common.retention_args
        def prune(**keep):
            pass
        self.assertEqual(['--keep-last', '--keep-hourly', '--keep-daily',
                          '--keep-weekly', '--keep-monthly', '--keep-yearly'],
                         [names[0] for names, _ in prune.args])


class QuiesceTestCase(testtools.TestCase):

    def test_installed_plugins_only(self):
        self.assertIsNone(common.quiesce_mode(None))
        self.assertEqual('pause', common.quiesce_mode('pause'))
        exc = self.assertRaises(exceptions.InvalidInput,
                                common.quiesce_mode, 'freeze')
        self.assertEqual("Invalid input: --quiesce 'freeze' is not one of: "
                         "guest-agent, none, pause, stop", str(exc))
