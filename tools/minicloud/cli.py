"""minicloud: a real OpenStack on 127.0.0.1 for backup-flows tests and demo.

    minicloud start [--with NAME[,NAME]]  install (once), start, wait; on a
                                          running cloud: add the components
                                          not on yet
    minicloud stop                        stop everything it started
    minicloud status                      what runs, memory (PSS), components
    minicloud env                         export lines for eval
    minicloud logs SERVICE [-n N]         last N (100) lines of a log
    minicloud restart-service SERVICE     restart one service (as listed by
                                          status), with the current test
                                          drivers

Components (--with, default $MINICLOUD_WITH): cinder-backup, backup-flows.
Data, configs, logs and clouds.yaml live in $MINICLOUD_HOME (default
/var/lib/backup-flows-minicloud for root, ~/.local/share/... otherwise).
The virtualenv lives in $MINICLOUD_CACHE/venv-<hash of requirements.txt>
(default /var/cache/backup-flows-minicloud for root, ~/.cache/... otherwise)
so it survives restarts and is rebuilt when the pins change.
Exit status: 0 done (status: ready), 1 failed (status: not ready),
2 bad command line, 3 (status) not running.
See doc/source/contributor/minicloud.rst.
"""

import argparse
import os
import sys

from tools.minicloud import commands
from tools.minicloud import paths
from tools.minicloud import util
from tools.minicloud.components import parse as parse_components

COMMANDS = ('start', 'stop', 'status', 'env', 'logs', 'restart-service')


class _Exit(Exception):
    """argparse wants to exit (after --help)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """Errors as one line (util.UsageError), help as the module docstring."""

    def error(self, message):
        raise util.UsageError(message)

    def exit(self, status=0, message=None):
        raise _Exit(status)

    def print_help(self, file=None):
        print(__doc__.rstrip(), file=file)


def build_parser():
    """The parser of the command line."""
    parser = _Parser(prog='minicloud', allow_abbrev=False)
    sub = parser.add_subparsers(dest='command')
    start = sub.add_parser('start', allow_abbrev=False)
    start.add_argument('--with', dest='with_', action='append',
                       metavar='NAME[,NAME]')
    for name in ('stop', 'status', 'env'):
        sub.add_parser(name, allow_abbrev=False)
    logs = sub.add_parser('logs', allow_abbrev=False)
    logs.add_argument('service')
    logs.add_argument('-n', dest='lines', type=int, default=100)
    restart = sub.add_parser('restart-service', allow_abbrev=False)
    restart.add_argument('service')
    return parser


def parse(argv):
    """The parsed arguments; raises util.UsageError for bad input."""
    if not argv:
        raise util.UsageError('no command given (%s; see --help)'
                              % ', '.join(COMMANDS))
    if not argv[0].startswith('-') and argv[0] not in COMMANDS:
        if argv[0] == 'help':
            print(__doc__.rstrip())
            raise _Exit(0)
        raise util.UsageError('unknown command %r (known: %s)'
                              % (argv[0], ', '.join(COMMANDS)))
    args = build_parser().parse_args(argv)
    if args.command is None:
        raise util.UsageError('no command given (%s; see --help)'
                              % ', '.join(COMMANDS))
    if args.command == 'start':
        given = args.with_
        text = (','.join(given) if given is not None
                else os.environ.get('MINICLOUD_WITH', ''))
        args.components = parse_components(text)
    if args.command == 'logs' and args.lines < 0:
        raise util.UsageError('-n must be 0 or more, not %d' % args.lines)
    return args


def dispatch(s, args, argv):
    """Run the parsed command; return its exit status."""
    if args.command == 'start':
        return commands.cmd_start(s, argv, args.components)
    if args.command == 'stop':
        return commands.cmd_stop(s)
    if args.command == 'status':
        return commands.cmd_status(s)
    if args.command == 'env':
        return commands.cmd_env(s)
    if args.command == 'logs':
        return commands.cmd_logs(s, args.service, args.lines)
    return commands.cmd_restart_service(s, argv, args.service)


def report_failure(s, command, e):
    """Show a failed step and its log; after a failed start, stop."""
    util.say('FAILED: %s' % e)
    if e.log:
        util.say('last lines of %s:' % e.log)
        print(util.tail(e.log), flush=True)
    if isinstance(e, util.ComponentFailure):
        util.say("stopped the new component's services; the rest runs on; "
                 'logs in %s' % s.log)
    elif command == 'start':
        util.say('stopping what was started; logs stay in %s' % s.log)
        commands.cmd_stop(s, quiet=True)


def main(argv):
    """Entry point: returns the exit status."""
    try:
        args = parse(argv)
    except _Exit as e:
        return e.status
    except util.UsageError as e:
        print('minicloud: %s' % e, file=sys.stderr)
        return 2
    s = paths.settings()
    try:
        return dispatch(s, args, argv)
    except util.UsageError as e:
        print('minicloud: %s' % e, file=sys.stderr)
        return 2
    except util.Failure as e:
        report_failure(s, args.command, e)
        return 1

