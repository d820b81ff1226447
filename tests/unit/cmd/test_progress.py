"""cmd/progress.py: progress lines from TaskFlow progress events."""

import io
import os
import pty
import threading

import fixtures
import futurist
from taskflow import engines
from taskflow.patterns import unordered_flow
import testtools

from backup_flows.cmd import progress
from backup_flows.tasks import base

_MIB = 1 << 20


def screen(text):
    """The rows of a terminal after it received ``text`` (the few ANSI
    sequences the display uses: cursor up, erase line, erase down)."""
    rows, row, col, i = [''], 0, 0, 0
    while i < len(text):
        if text.startswith('\x1b[', i):
            end = i + 2
            while not text[end].isalpha():
                end += 1
            arg, command = text[i + 2:end], text[end]
            if command == 'A':
                row -= int(arg or 1)
                assert row >= 0, 'cursor moved above the output'
            elif command == 'K':
                rows[row] = ''
            elif command == 'J':
                rows[row] = rows[row][:col]
                del rows[row + 1:]
            i = end + 1
            continue
        char = text[i]
        if char == '\r':
            col = 0
        elif char == '\n':
            row, col = row + 1, 0
            if row == len(rows):
                rows.append('')
        else:
            rows[row] = rows[row][:col] + char + rows[row][col + 1:]
            col += 1
        i += 1
    return rows[:-1] if rows[-1] == '' else rows


class Clock:
    def __init__(self):
        self.now = 10.0

    def __call__(self):
        return self.now


class DisplayTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.stream = io.StringIO()
        self.clock = Clock()
        self.useFixture(fixtures.EnvironmentVariable('COLUMNS', '60'))

    def display(self, tty):
        return progress.ProgressDisplay(self.stream, tty=tty,
                                        clock=self.clock)

    def interleave(self, display):
        """Two disks copying side by side, vda 100 MiB, vdb 40 MiB."""
        a, b = ('owner', 'write-disk-vda'), ('owner', 'write-disk-vdb')
        display.update(a, a[1], 10 * _MIB, 100 * _MIB, start=10.0)
        self.clock.now += 1
        display.update(b, b[1], 10 * _MIB, 40 * _MIB, start=10.5)
        self.clock.now += 1
        display.update(a, a[1], 50 * _MIB, 100 * _MIB, start=10.0)
        display.update(b, b[1], 40 * _MIB, 40 * _MIB, start=10.5)
        display.end(b, 'SUCCESS')
        self.clock.now += 1
        display.update(a, a[1], 60 * _MIB, 100 * _MIB, start=10.0)
        return a, b

    def test_terminal_block_redrawn_in_place(self):
        display = self.display(tty=True)
        a, b = self.interleave(display)
        self.assertEqual(
            ['write-disk-vda: 60.0 / 100.0 MiB (60%), 20.0 MiB/s',
             'write-disk-vdb: 40.0 MiB done in 1.5 s, 26.7 MiB/s'],
            screen(self.stream.getvalue()))
        display.end(a, 'FAILURE')
        self.assertEqual(
            ['write-disk-vda: failed at 60.0 / 100.0 MiB (60%)',
             'write-disk-vdb: 40.0 MiB done in 1.5 s, 26.7 MiB/s'],
            screen(self.stream.getvalue()))

    def test_a_new_block_starts_below_a_finished_one(self):
        display = self.display(tty=True)
        a, b = self.interleave(display)
        display.end(a, 'SUCCESS')
        c = ('other', 'upload-disk-vda')
        display.update(c, c[1], 0, 8 * _MIB)
        rows = screen(self.stream.getvalue())
        self.assertEqual(3, len(rows))
        self.assertEqual('upload-disk-vda: 0.0 / 8.0 MiB (0%)', rows[2])

    def test_log_records_land_above_the_block(self):
        display = self.display(tty=True)
        self.interleave(display)
        display.write('WARNING something happened\n')
        self.assertEqual(
            ['WARNING something happened',
             'write-disk-vda: 60.0 / 100.0 MiB (60%), 20.0 MiB/s',
             'write-disk-vdb: 40.0 MiB done in 1.5 s, 26.7 MiB/s'],
            screen(self.stream.getvalue()))

    def test_long_lines_are_cut_to_the_terminal(self):
        display = self.display(tty=True)
        key = ('owner', 'write-disk-' + 'x' * 80)
        display.update(key, key[1], 0, _MIB)
        display.update(key, key[1], 1, _MIB)
        self.assertEqual(['write-disk-' + 'x' * 48],
                         screen(self.stream.getvalue()))

    def test_a_terminal_of_unknown_size_is_80_wide(self):
        self.useFixture(fixtures.EnvironmentVariable('COLUMNS'))
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        stream = os.fdopen(os.dup(slave), 'w')
        self.addCleanup(stream.close)
        self.useFixture(fixtures.MockPatch(
            'shutil.get_terminal_size',
            return_value=os.terminal_size((80, 24))))
        display = progress.ProgressDisplay(stream, clock=self.clock)
        self.assertTrue(display.tty)
        self.assertEqual(79, display._width())

    def test_plain_lines_are_sparse(self):
        display = self.display(tty=False)
        a, b = self.interleave(display)
        self.clock.now += 40
        display.update(a, a[1], 61 * _MIB, 100 * _MIB, start=10.0)
        display.end(a, 'SUCCESS')
        self.assertEqual(
            # first update, vda's 25 % step, vdb's end, 30 s later, ends
            ['write-disk-vda: 10.0 / 100.0 MiB (10%)',
             'write-disk-vdb: 10.0 / 40.0 MiB (25%), 20.0 MiB/s',
             'write-disk-vda: 50.0 / 100.0 MiB (50%), 25.0 MiB/s',
             'write-disk-vdb: 40.0 MiB done in 1.5 s, 26.7 MiB/s',
             'write-disk-vda: 61.0 / 100.0 MiB (61%), 1.4 MiB/s',
             'write-disk-vda: 61.0 MiB done in 43.0 s, 1.4 MiB/s'],
            self.stream.getvalue().splitlines())
        self.assertNotIn('\r', self.stream.getvalue())
        self.assertNotIn('\x1b', self.stream.getvalue())

    def test_a_suspended_flow_stops_its_lines(self):
        display = self.display(tty=False)
        display.update(('owner', 'write-disk-vda'), 'write-disk-vda',
                       _MIB, 2 * _MIB)
        display.close('someone else')
        display.close('owner')
        self.assertEqual(['write-disk-vda: 1.0 / 2.0 MiB (50%)',
                          'write-disk-vda: stopped at 1.0 / 2.0 MiB (50%)'],
                         self.stream.getvalue().splitlines())


class CopyDisk(base.BackupFlowsTask):
    """Reports a copy in steps, in step with the other copies."""

    def execute(self, steps, barrier):
        for step in range(1, steps + 1):
            barrier.wait(timeout=10)
            self.update_progress(step / steps, disk=self.name,
                                 done=step * _MIB, total=steps * _MIB)


class ListenerTestCase(testtools.TestCase):
    """Two disks progress side by side on the parallel engine."""

    def setUp(self):
        super().setUp()
        self.stdout = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.stdout))
        self.stream = io.StringIO()
        self.executor = futurist.ThreadPoolExecutor(max_workers=2)
        self.addCleanup(self.executor.shutdown)

    def run_flow(self, tty):
        barrier = threading.Barrier(2)
        flow = unordered_flow.Flow('copies').add(
            CopyDisk(name='copy-vda', inject={'steps': 4, 'barrier': barrier}),
            CopyDisk(name='copy-vdb', inject={'steps': 4, 'barrier': barrier}),
            CopyDisk(name='not-a-copy', inject={'steps': 0,
                                                'barrier': barrier}))
        engine = engines.load(flow, engine='parallel',
                              executor=self.executor)
        display = progress.ProgressDisplay(self.stream, tty=tty, step=0.5)
        listener = display.listener(engine)
        listener.register()
        self.addCleanup(listener.deregister)
        engine.run()
        return self.stream.getvalue()

    def test_terminal_shows_one_line_per_disk(self):
        rows = screen(self.run_flow(tty=True))
        self.assertEqual(2, len(rows), rows)
        self.assertEqual(['copy-vda: 4.0 MiB done in',
                          'copy-vdb: 4.0 MiB done in'],
                         sorted(row[:25] for row in rows))
        self.assertEqual('', self.stdout.getvalue())

    def test_plain_lines(self):
        lines = sorted(self.run_flow(tty=False).splitlines())
        self.assertEqual(['copy-vda: 1.0 / 4.0 MiB (25%)',
                          'copy-vda: 3.0 / 4.0 MiB (75%)',
                          'copy-vdb: 1.0 / 4.0 MiB (25%)',
                          'copy-vdb: 3.0 / 4.0 MiB (75%)'],
                         [line.split(',')[0] for line in lines
                          if 'done' not in line])
        self.assertEqual(2, len([line for line in lines if 'done' in line]))
        self.assertEqual('', self.stdout.getvalue())

    def test_progress_details_are_persisted(self):
        barrier = threading.Barrier(1)
        task = CopyDisk(name='copy-vda', inject={'steps': 2,
                                                 'barrier': barrier})
        engine = engines.load(task)
        engine.run()
        self.assertEqual(1.0, engine.storage.get_task_progress('copy-vda'))
        self.assertEqual({'at_progress': 1.0,
                          'details': {'disk': 'copy-vda', 'done': 2 * _MIB,
                                      'total': 2 * _MIB}},
                         engine.storage.get_task_progress_details('copy-vda'))
