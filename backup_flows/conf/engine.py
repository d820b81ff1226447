"""Options of the [engine] group: how flows are run and persisted."""

from oslo_config import cfg

engine_group = cfg.OptGroup(
    'engine',
    title='Flow engine options',
    help='How TaskFlow flows are run and where their state is persisted.')

engine_opts = [
    cfg.StrOpt('mode',
               default='embedded',
               choices=[('embedded', 'The command runs the flow in its own '
                                     'process.'),
                        ('jobboard', 'The command posts the flow as a job to '
                                     'the [jobboard] and waits while a '
                                     'backup-flows-conductor runs it.')],
               help='Where the admin CLI runs the jobs it starts.'),
    cfg.StrOpt('persistence_connection',
               secret=True,
               help='SQLAlchemy URL of the flow persistence database. '
                    'Unset: a SQLite file "flows.sqlite" under state_path. '
                    'Example: postgresql+psycopg2://user:pass@host/backup_flows'),
    cfg.StrOpt('engine',
               default='serial',
               choices=[('serial', 'Run every task in the calling thread.'),
                        ('parallel', 'Run independent tasks side by side on '
                                     'a shared thread pool.')],
               help='TaskFlow engine used to run flows in-process.'),
    cfg.IntOpt('max_workers',
               default=4,
               min=1,
               help='Threads of the shared pool used by the parallel '
                    'engine.'),
    cfg.IntOpt('claim_timeout',
               default=60,
               min=10,
               help='Seconds without a heartbeat after which a job run by '
                    'a process on another host counts as interrupted (and '
                    'may be resumed or aborted). The running process '
                    'refreshes its claim every quarter of this. A process '
                    'on this host is checked directly.'),
]


def register_opts(conf):
    conf.register_group(engine_group)
    conf.register_opts(engine_opts, group=engine_group)


def list_opts():
    return {engine_group: engine_opts}
