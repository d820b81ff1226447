"""Generic gunicorn entry for the OpenStack WSGI modules.

oslo.config inside the services parses ``sys.argv``; under gunicorn that
holds gunicorn's own arguments. Reset it to the arguments given in
``MINICLOUD_WSGI_ARGS`` before importing the service's WSGI module named in
``MINICLOUD_WSGI_MODULE``.
"""

import importlib
import os
import shlex
import sys

sys.argv = [os.environ.get('MINICLOUD_WSGI_PROG', 'minicloud-wsgi')] + \
    shlex.split(os.environ.get('MINICLOUD_WSGI_ARGS', ''))

application = importlib.import_module(
    os.environ['MINICLOUD_WSGI_MODULE']).application
