"""Functional test: ``backup create`` shows one progress line per disk on
stderr, from TaskFlow progress events, and nothing of it on stdout."""

import json
import os

from tests.functional import cli
from tests.functional import minicloud as mc


class TestBackupProgress(mc.MiniCloudTestCase):

    def test_progress_lines_on_stderr_with_the_parallel_engine(self):
        manage = self.useFixture(cli.ManageFixture(self.clouds_yaml))
        repo = os.path.join(manage.state, 'repo')
        manage.json('repository', 'init', repo)
        config = os.path.join(manage.state, 'parallel.conf')
        with open(config, 'w') as f:
            f.write('[engine]\nengine = parallel\n')
        server, volumes = self.make_server(volumes=1)

        rc, out, err = manage.run('--config-file', config, '--format',
                                  'json', 'backup', 'create', server.id,
                                  '--repository', repo)

        self.assertEqual(0, rc, err)
        # stdout is the JSON document alone
        result = json.loads(out)
        names = [d['name'] for d in result['disks']]
        self.assertEqual(2, len(names))
        self.assertNotIn('MiB', out)
        # stderr is not a terminal: plain lines, sparse, one task each
        self.assertNotIn('\r', err)
        self.assertNotIn('\x1b', err)
        lines = [line for line in err.splitlines()
                 if line.startswith('write-disk-')]
        for name in names:
            mine = [line for line in lines
                    if line.startswith('write-disk-%s: ' % name)]
            self.assertTrue(mine, err)
            self.assertIn(' MiB done in ', mine[-1])
            self.assertLessEqual(len(mine), 6, err)
