"""backup_flows.api.wsgi as a WSGI server imports it."""

import json
import os
import subprocess
import sys

import fixtures
import testtools

# Run where a WSGI server would: its own command line in sys.argv.
SERVE_ONE_REQUEST = '''
import json, sys
sys.argv = ["gunicorn", "--workers", "2", "--bogus-option"]
import webob
from backup_flows.api import wsgi
from backup_flows import conf
root = webob.Request.blank("/").get_response(wsgi.application)
denied = webob.Request.blank("/v1/jobs").get_response(wsgi.application)
print(json.dumps({"root": root.status_int, "denied": denied.status_int,
                  "www_authenticate": denied.headers.get("WWW-Authenticate"),
                  "auth_strategy": conf.CONF.api.auth_strategy,
                  "max_limit": conf.CONF.api.max_limit}))
'''


class WsgiTestCase(testtools.TestCase):

    def test_application_configured_from_the_environment(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(tmp, 'backup-flows.conf'), 'w') as f:
            f.write('[api]\nauth_strategy = noauth2\n')
        extra = os.path.join(tmp, 'extra.conf')
        with open(extra, 'w') as f:
            f.write('[api]\nmax_limit = 7\n')
        env = dict(os.environ, OS_BACKUP_FLOWS_CONFIG_DIR=tmp,
                   BACKUP_FLOWS_CONFIG_FILE=extra)
        proc = subprocess.run([sys.executable, '-c', SERVE_ONE_REQUEST],
                              capture_output=True, text=True, env=env,
                              timeout=60)
        self.assertEqual(0, proc.returncode, proc.stderr)
        # oslo.log writes to stdout when no log file is set: the result is
        # the last line.
        result = json.loads(proc.stdout.splitlines()[-1])
        # noauth2 from the directory's file, max_limit from the extra one;
        # the server's arguments were never parsed.
        self.assertEqual({'root': 200, 'denied': 401, 'www_authenticate': None,
                          'auth_strategy': 'noauth2', 'max_limit': 7},
                         result)
