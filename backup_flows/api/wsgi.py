"""WSGI entry point of backup-flows-api: ``backup_flows.api.wsgi:application``.

Served by any WSGI server, e.g.::

    gunicorn --bind 127.0.0.1:8780 backup_flows.api.wsgi:application

The configuration is found through the environment, never the command line
(the server's arguments are not ours):

``BACKUP_FLOWS_CONFIG_FILE``
    Config files to read, separated by ``os.pathsep`` (``:``); later ones
    override earlier ones.
``OS_BACKUP_FLOWS_CONFIG_DIR``
    A directory holding ``backup-flows.conf``, read before those files.

Without either, oslo.config's usual places are searched: e.g.
``/etc/backup-flows/backup-flows.conf``, then ``backup-flows-api.conf``
beside it for options of the API alone.
"""

from backup_flows.api import deploy

application = deploy.init_application()
