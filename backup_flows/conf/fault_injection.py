"""Options of the [fault_injection] group: failures on purpose, for tests.

Off unless set: the functional tests set them in a configuration file of
their own to prove that every flow reverts cleanly from every point.
"""

from oslo_config import cfg

fault_injection_group = cfg.OptGroup(
    'fault_injection',
    title='Fault injection (tests only)',
    help='Failures injected on purpose to test reverts. Never set them in '
         'production.')

fault_injection_opts = [
    cfg.StrOpt('fail_before_task',
               help='Atom name of a task that fails before it starts (after '
                    'every task it depends on has finished), so that the '
                    'flow reverts from there; "@end" fails the flow after '
                    'its last task.'),
    cfg.StrOpt('hang_before_task',
               help='Atom name of a task before which the flow stops and '
                    'waits (ten minutes at most), so that a test can kill '
                    'the process at a known point.'),
    cfg.StrOpt('fail_revert_of_task',
               help='Atom name of a task whose revert fails before it does '
                    'anything (the rest of the revert chain must still '
                    'run).'),
]


def register_opts(conf):
    conf.register_group(fault_injection_group)
    conf.register_opts(fault_injection_opts, group=fault_injection_group)


def list_opts():
    return {fault_injection_group: fault_injection_opts}
