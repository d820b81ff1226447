"""Toy flows for engine tests: each task appends its name to a journal."""

import os
import sys
import time

from taskflow.patterns import linear_flow

from backup_flows.tasks import base


def _journal(path, line):
    with open(path, 'a') as journal:
        journal.write(line + '\n')
        journal.flush()
        os.fsync(journal.fileno())


class Step(base.BackupFlowsTask):
    """Journals its execution; optionally waits for a file or fails.

    Reversion strategy: journals its revert.
    """

    def execute(self, journal, fail_at=None):
        _journal(journal, 'execute ' + self.name)
        if self.name == os.environ.get('TOY_BLOCK_AT'):
            # Stay here until the test kills the process.
            for _ in range(600):
                time.sleep(0.1)
        if self.name == fail_at:
            raise RuntimeError('step %s failed' % self.name)
        return self.name

    def revert(self, result, journal, **kwargs):
        _journal(journal, 'revert ' + self.name)


def get_flow(steps, committed=None, best_effort=()):
    """Steps in order; ``committed`` names the point of no return,
    ``best_effort`` the steps whose failure does not fail the flow."""
    flow = linear_flow.Flow('toy')
    for name in steps:
        flow.add(Step(name=name, provides='out-' + name,
                      best_effort=name in best_effort,
                      point_of_no_return=name == committed))
    return flow


def main():
    """Run a toy job in this process: argv = state_path journal block_at
    [committed]."""
    from unittest import mock

    from backup_flows import conf
    from backup_flows import engine

    state_path, journal, os.environ['TOY_BLOCK_AT'] = sys.argv[1:4]
    args = {'steps': ['one', 'two', 'three']}
    if sys.argv[4:]:
        args['committed'] = sys.argv[4]
    conf.CONF([], project='backup-flows', default_config_files=[])
    conf.CONF.set_override('state_path', state_path)
    with mock.patch('backup_flows.plugins.load_flow_factory',
                    return_value=get_flow):
        engine.run_flow('toy', args, {'journal': journal},
                        job_id='11111111-2222-3333-4444-555555555555')


if __name__ == '__main__':
    main()
