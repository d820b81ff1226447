"""Building blocks of the nova-manage style admin CLI.

A command category is a class; each public method is an action whose
arguments are declared with :func:`args`. The docstring's first line is the
action's help.
"""

import json
import sys

from oslo_config import cfg
import wcwidth

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import plugins

CONF = bf_conf.CONF


def args(*args, **kwargs):
    """Declare one argparse argument of a CLI action."""
    def _decorator(func):
        func.__dict__.setdefault('args', []).insert(0, (args, kwargs))
        return func
    return _decorator


def methods_of(obj):
    """Public methods of a category object, as (name, bound method)."""
    return [(name, getattr(obj, name)) for name in sorted(dir(obj))
            if not name.startswith('_') and callable(getattr(obj, name))]


def add_command_parsers(subparsers, categories):
    """Add one sub-parser per category and per action of each."""
    for category, cls in categories.items():
        command_object = cls()
        doc = (cls.__doc__ or '').strip().splitlines()
        parser = subparsers.add_parser(category, help=doc[0] if doc else '')
        parser.set_defaults(command_object=command_object)
        actions = parser.add_subparsers(dest='action', metavar='ACTION')
        actions.required = True
        for action, action_fn in methods_of(command_object):
            help_lines = (action_fn.__doc__ or '').strip().splitlines()
            action_parser = actions.add_parser(
                action.replace('_', '-'),
                help=help_lines[0] if help_lines else '',
                description=(action_fn.__doc__ or '').strip())
            action_kwargs = []
            for arg_names, arg_kwargs in getattr(action_fn, 'args', []):
                arg_kwargs = dict(arg_kwargs)
                if 'dest' not in arg_kwargs:
                    first = arg_names[0]
                    if first.startswith('--'):
                        arg_kwargs['dest'] = first[2:].replace('-', '_')
                    else:
                        arg_kwargs['dest'] = first
                dest = arg_kwargs['dest']
                if not arg_names[0].startswith('-'):
                    # Positional: argparse takes the name from args[0].
                    arg_kwargs.pop('dest')
                    arg_names = (dest,)
                action_kwargs.append(dest)
                action_parser.add_argument(*arg_names, **arg_kwargs)
            action_parser.set_defaults(action_fn=action_fn,
                                       action_kwargs=action_kwargs)


def count(value, option):
    """``value`` of the CLI option ``option`` as a count: a whole number
    >= 0 (given as a string: argparse's ``type=int`` would print its usage
    over several lines instead of one error line)."""
    try:
        number = int(value, 10)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise exceptions.InvalidInput(
            reason='%s %r is not a count (a whole number >= 0)'
                   % (option, value))
    return number


def choice(value, option, choices):
    """``value`` of the CLI option ``option`` when it is one of
    ``choices`` (``None`` when not given); else one error line (argparse's
    ``choices`` would print its usage over several lines)."""
    if value is not None and value not in choices:
        raise exceptions.InvalidInput(
            reason='%s %r is not one of: %s'
                   % (option, value, ', '.join(choices)))
    return value


def quiesce_mode(value):
    """``--quiesce``: ``None`` (the default) or an installed quiesce
    plugin's name; anything else is one error line (exit 2)."""
    if value is None:
        return None
    return choice(value, '--quiesce',
                  plugins.available(plugins.QUIESCE))


QUIESCE_HELP = ('an installed backup_flows.quiesce plugin: none (crash), '
                'pause (all disks at one instant), guest-agent (filesystems '
                'frozen), stop (cold), or a plugin of your own')


# The retention options: (name, help). Counts are per server.
RETENTION_OPTIONS = (
    ('keep_last', 'Keep the N newest backups of each server.'),
    ('keep_hourly', 'Keep the newest backup of each of the last N hours '
                    'that have one.'),
    ('keep_daily', 'The same per day.'),
    ('keep_weekly', 'The same per ISO week.'),
    ('keep_monthly', 'The same per month.'),
    ('keep_yearly', 'The same per year.'),
)


def retention_args(func):
    """Declare the ``--keep-*`` options of an action; its arguments of the
    same names go through :func:`retention`."""
    for name, text in reversed(RETENTION_OPTIONS):
        func = args('--' + name.replace('_', '-'), metavar='N',
                    help=text)(func)
    return func


def retention(**given):
    """The retention counts given on the command line, validated:
    ``{'keep_last': n, ...}`` with only the options given; a value that is
    not a count is one error line (exit 2)."""
    return {name: count(value, '--' + name.replace('_', '-'))
            for name, value in given.items() if value is not None}


def url(value):
    """A repository URL given on the command line: ``None`` when not
    given; an empty one is refused (it would mean the default)."""
    if value is not None and not value.strip():
        raise exceptions.InvalidInput(
            reason='the repository URL is empty; give a path or URL, or '
                   'leave the option out for the default')
    return value


def fetch_func_args(func):
    """Keyword arguments of the chosen action, from the parsed CLI."""
    return {name: getattr(CONF.category, name)
            for name in getattr(CONF.category, 'action_kwargs', [])}


def json_output():
    """Whether --format json was asked for (never before the CLI's own
    options are registered)."""
    try:
        return CONF.format == 'json'
    except cfg.NoSuchOptError:
        return False


def _cell(value):
    if isinstance(value, (list, tuple)):
        return '\n'.join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return '' if value is None else str(value)


def print_item(item, fields=None, out=None):
    """Print one resource: a Field/Value table, or JSON with --format json."""
    out = out or sys.stdout
    if CONF.format == 'json':
        json.dump(item, out, indent=2, sort_keys=True, default=str)
        out.write('\n')
        return
    out.write(table(['Field', 'Value'],
                    [[key, _cell(item.get(key))]
                     for key in fields or sorted(item)]) + '\n')


def print_list(items, columns, out=None):
    """Print resources: a table of ``columns``, or a JSON list."""
    out = out or sys.stdout
    if CONF.format == 'json':
        json.dump(list(items), out, indent=2, sort_keys=True, default=str)
        out.write('\n')
        return
    out.write(table(columns, [[_cell(item.get(col)) for col in columns]
                              for item in items]) + '\n')


def _width(text):
    width = wcwidth.wcswidth(text)
    return len(text) if width < 0 else width


def table(columns, rows):
    """``rows`` (lists of strings, ``\\n`` breaking a cell's lines) under
    ``columns`` as the text table prettytable draws, left aligned; about
    twenty times faster, which ``job list`` of thousands of jobs needs."""
    split = [[cell.split('\n') for cell in row] for row in rows]
    widths = [_width(name) for name in columns]
    for row in split:
        for n, lines in enumerate(row):
            widths[n] = max([widths[n]] + [_width(line) for line in lines])
    rule = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def line(cells):
        return '| ' + ' | '.join(
            cell + ' ' * (w - _width(cell))
            for cell, w in zip(cells, widths, strict=True)) + ' |'

    out = [rule, line(columns), rule]
    for row in split:
        for depth in range(max([len(lines) for lines in row] or [1])):
            out.append(line([lines[depth] if depth < len(lines) else ''
                             for lines in row]))
    out.append(rule)
    return '\n'.join(out)
