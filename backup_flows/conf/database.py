"""Options of the [database] group: oslo.db's options, for the service
database (the catalog of snapshots, backups, restores and jobs, and the
trust references; see :mod:`backup_flows.db`).

Unset, ``connection`` is a SQLite file :data:`DEFAULT_FILE` under
``state_path``, computed when the database is first used (see
:func:`backup_flows.db.api.connection_url`). The flow persistence database
is another one, ``[engine] persistence_connection``.
"""

import copy

from oslo_db import options as db_options

DEFAULT_FILE = 'backup-flows.sqlite'


def register_opts(conf):
    db_options.set_defaults(conf)


def list_opts():
    # Copies: oslo.db's own option objects stay as they are for every
    # other user of oslo.db in the process.
    opts = copy.deepcopy(db_options.database_opts)
    for opt in opts:
        if opt.name == 'connection':
            opt.sample_default = 'sqlite:///$state_path/' + DEFAULT_FILE
            opt.help += (' Unset: a SQLite file %s under state_path. '
                         'Example: postgresql+psycopg2://backup_flows:'
                         'SECRET@db/backup_flows' % DEFAULT_FILE)
    return {'database': opts}
