"""``backup-flows-manage``: the admin CLI (nova-manage style).

Exit status: 0 success; 1 the operation failed (a flow failed and was
reverted, a cloud could not be reached); 2 bad usage or input (unknown
server, option or id). Errors are one line on stderr; ``--debug`` adds the
traceback. With ``--format json`` a failed command also prints a JSON
object on stdout: ``error`` (the message), ``exit_code`` and what the
operation knew (e.g. a verification's ``problems``).
"""

import json
import logging as py_logging
import os
import sys

from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import operations
from backup_flows.cmd import backup
from backup_flows.cmd import catalog
from backup_flows.cmd import common
from backup_flows.cmd import db
from backup_flows.cmd import job
from backup_flows.cmd import progress
from backup_flows.cmd import repository
from backup_flows.cmd import restore
from backup_flows.cmd import snapshot

CONF = bf_conf.CONF
LOG = logging.getLogger(__name__)

CATEGORIES = {
    'backup': backup.BackupCommands,
    'catalog': catalog.CatalogCommands,
    'db': db.DbCommands,
    'flow': job.FlowCommands,
    'job': job.JobCommands,
    'repository': repository.RepositoryCommands,
    'snapshot': snapshot.SnapshotCommands,
}

cli_opts = [
    cfg.StrOpt('format',
               default='table',
               choices=['table', 'json'],
               help='Output format: a table for people, JSON for scripts.'),
]

# Global options users also type after the command; they are moved in front
# of it so that oslo.config sees them.
_GLOBAL_WITH_VALUE = ('--format', '--os-cloud', '--config-file',
                      '--config-dir')
_GLOBAL_FLAGS = ('--debug', '-d')


def _global_options_first(argv):
    front, rest = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split('=', 1)[0]
        if name in _GLOBAL_WITH_VALUE:
            if '=' in arg or i + 1 >= len(argv):
                front.append(arg)
            else:
                front.extend(argv[i:i + 2])
                i += 1
        elif arg in _GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _add_command_parsers(subparsers):
    common.add_command_parsers(subparsers, CATEGORIES)
    # Deprecated spelling of "backup restore BACKUP_ID [options]".
    restore.add_command_parser(subparsers)


def _error(message):
    sys.stderr.write('ERROR: %s\n' % message)


def _fail(message, exit_code, report=None):
    """Report a failed command: one line on stderr and, with --format json,
    a JSON object on stdout; return ``exit_code``."""
    message = str(message)
    _error(message)
    if common.json_output():
        json.dump(dict(report or {}, error=message, exit_code=exit_code),
                  sys.stdout, indent=2, sort_keys=True, default=str)
        sys.stdout.write('\n')
    return exit_code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    category_opt = cfg.SubCommandOpt('category', title='Command categories',
                                     help='Available categories',
                                     handler=_add_command_parsers)
    CONF.register_cli_opts(cli_opts)
    CONF.register_cli_opt(category_opt)
    logging.register_options(CONF)
    # stdout carries the command's output (tables, JSON); logs go to stderr.
    CONF.set_default('use_stderr', True)
    logging.set_defaults(default_log_levels=(
        logging.get_default_log_levels() +
        ['alembic=WARN', 'stevedore=ERROR', 'taskflow=WARN',
         'keystoneauth=ERROR', 'openstack=WARN']))
    try:
        CONF(_global_options_first(argv), project='backup-flows',
             prog='backup-flows-manage')
    except cfg.Error as exc:
        _error(exc)
        return exceptions.EXIT_USAGE
    logging.setup(CONF, 'backup-flows')
    # progress of long copies: lines on stderr, from the engines' events
    display = progress.ProgressDisplay(sys.stderr)
    display.capture_logging()
    stop_progress = operations.add_listener_factory(display.listener)

    fn = CONF.category.action_fn
    try:
        return run_command(lambda: fn(**common.fetch_func_args(fn)))
    finally:
        stop_progress()


def run_command(command):
    """Run ``command()``; its result, or an error as one line (and a JSON
    object with --format json) and the exit status documented in
    doc/source/cli."""
    try:
        result = command()
    except exceptions.BackupFlowsError as exc:
        LOG.debug('Command failed', exc_info=True)
        return _fail(exc, exc.exit_code, exc.report)
    except cfg.ConfigFileValueError as exc:
        # an option value read lazily, when a command first uses it
        return _fail('invalid configuration: %s' % exc,
                     exceptions.EXIT_USAGE)
    except sdk_exc.SDKException as exc:
        # a cloud call outside a flow (planning, listing) failed for good
        LOG.debug('Cloud request failed', exc_info=True)
        return _fail('the cloud refused or failed a request: %s'
                     % ' '.join(str(exc).split()), exceptions.EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail('interrupted; an interrupted job can be resumed with '
                     '"backup-flows-manage job resume ID" or reverted with '
                     '"backup-flows-manage job abort ID" (job list shows '
                     'it)', 130)
    except Exception as exc:
        LOG.debug('Unexpected error', exc_info=True)
        return _fail('unexpected %s: %s (rerun with --debug for details)'
                     % (type(exc).__name__, exc), exceptions.EXIT_FAILED)
    return result or exceptions.EXIT_OK


def console_main():
    """The console script: :func:`main`, then an exit without teardown.

    When ``main`` returns, its output is written, its job persisted and its
    locks released; the interpreter's teardown of every imported module
    would only add about half a second (a second on a busy host) to each
    command. Logs and streams are flushed first.
    """
    status = main()
    py_logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status if isinstance(status, int) else exceptions.EXIT_FAILED)


if __name__ == '__main__':
    console_main()
