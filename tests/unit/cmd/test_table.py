"""cmd.common.table draws what prettytable draws, much faster."""

import prettytable
import testtools

from backup_flows.cmd import common


def drawn_by_prettytable(columns, rows):
    table = prettytable.PrettyTable(columns)
    table.align = 'l'
    for row in rows:
        table.add_row(row)
    return table.get_string()


class TableTestCase(testtools.TestCase):

    def assertSameAsPrettytable(self, columns, rows):
        self.assertEqual(drawn_by_prettytable(columns, rows),
                         common.table(columns, rows))

    def test_plain_rows(self):
        self.assertSameAsPrettytable(
            ['id', 'state'], [['a-very-long-id', 'SUCCESS'], ['b', '']])

    def test_no_rows(self):
        self.assertSameAsPrettytable(['id', 'flow', 'state'], [])

    def test_cells_of_several_lines(self):
        self.assertSameAsPrettytable(
            ['Field', 'Value'], [['disks', 'vda\nvdb-longer\nvdc'],
                                 ['name', 'web-1'], ['empty', '']])

    def test_wide_characters(self):
        self.assertSameAsPrettytable(['name', 'id'],
                                     [['サーバー', '1'], ['héllo', '2']])
