"""The CLI as users run it: exit codes and one-line errors."""

import json
import os
import subprocess
import sys

import fixtures
import testtools


class ManageTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        clouds = os.path.join(self.tmp, 'clouds.yaml')
        with open(clouds, 'w') as f:
            # A cloud whose endpoint refuses connections at once.
            f.write('clouds:\n  dead:\n    auth:\n'
                    '      auth_url: http://127.0.0.1:9/v3\n'
                    '      username: u\n      password: p\n'
                    '      project_name: p\n'
                    '      user_domain_name: Default\n'
                    '      project_domain_name: Default\n')
        self.env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds,
                        XDG_DATA_HOME=self.tmp)
        self.env.pop('OS_CLOUD', None)

    def manage(self, *argv):
        proc = subprocess.run(
            [sys.executable, '-m', 'backup_flows.cmd.manage'] + list(argv),
            capture_output=True, text=True, env=self.env, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def assertOneLineError(self, stderr, *fragments):
        lines = stderr.strip().splitlines()
        self.assertEqual(1, len(lines), stderr)
        self.assertTrue(lines[0].startswith('ERROR: '), stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_malformed_ttl(self):
        rc, _, err = self.manage('snapshot', 'create', 'srv', '--ttl', '3x')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, "'3x' is not a duration")

    def test_unknown_quiesce_mode(self):
        rc, _, err = self.manage('snapshot', 'create', 'srv', '--quiesce',
                                 'freeze')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, "'freeze'", 'guest-agent, none')

    def test_bad_option_value_in_a_config_file(self):
        conf = os.path.join(self.tmp, 'bad.conf')
        with open(conf, 'w') as f:
            f.write('[backup]\nkeep_daily = -1\n')
        rc, _, err = self.manage('--config-file', conf, 'backup', 'prune',
                                 '--repository', self.tmp)
        self.assertEqual(2, rc, err)
        self.assertOneLineError(err, 'invalid configuration', 'keep_daily')

    def test_a_failed_cloud_request_outside_a_flow_is_one_line(self):
        from openstack import exceptions as sdk_exc

        from backup_flows.cmd import manage

        def command():
            raise sdk_exc.HttpException(
                message='Internal Server Error\nsecond line')

        stderr = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(1, manage.run_command(command))
        stderr.seek(0)
        self.assertOneLineError(stderr.read(), 'the cloud refused or failed',
                                'Internal Server Error second line')

    def test_unknown_cloud(self):
        rc, _, err = self.manage('--os-cloud', 'nowhere', 'snapshot', 'list')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'nowhere')

    def test_unreachable_cloud(self):
        rc, _, err = self.manage('snapshot', 'list', '--os-cloud', 'dead')
        self.assertEqual(1, rc)
        self.assertOneLineError(err, 'dead', 'cannot be reached')

    def test_rollback_needs_confirmation(self):
        rc, _, err = self.manage('snapshot', 'rollback', 'some-id')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, '--yes')

    def test_bad_usage_is_exit_2(self):
        rc, _, err = self.manage('snapshot', 'frobnicate')
        self.assertEqual(2, rc)

    def test_flow_list_json(self):
        rc, out, _ = self.manage('flow', 'list', '--format', 'json')
        self.assertEqual(0, rc)
        names = [row['name'] for row in json.loads(out)]
        self.assertIn('snapshot-create', names)
        self.assertIn('snapshot-rollback', names)

    def test_json_error_report_on_bad_input(self):
        rc, out, err = self.manage('--format', 'json', 'backup', 'prune',
                                   '--keep-last', 'x', '--repository',
                                   self.tmp)
        self.assertEqual(2, rc)
        self.assertOneLineError(err, "--keep-last 'x' is not a count")
        self.assertEqual({'error': err.strip()[len('ERROR: '):],
                          'exit_code': 2}, json.loads(out))

    def test_json_error_report_in_process(self):
        from backup_flows import exceptions
        from backup_flows.cmd import manage

        def command():
            error = exceptions.BackupFlowsError('it broke')
            error.report = {'problems': ['one']}
            raise error

        stdout = self.useFixture(fixtures.StringStream('stdout')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', stdout))
        stderr = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.useFixture(fixtures.MonkeyPatch(
            'backup_flows.cmd.common.json_output', lambda: True))
        self.assertEqual(1, manage.run_command(command))
        stdout.seek(0)
        self.assertEqual({'error': 'it broke', 'exit_code': 1,
                          'problems': ['one']}, json.loads(stdout.read()))

    def test_job_resume_unknown(self):
        rc, _, err = self.manage('job', 'resume', 'nope')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'Job nope not found')

    def test_job_show_unknown(self):
        rc, _, err = self.manage('job', 'show', 'nope')
        self.assertEqual(2, rc)
        self.assertOneLineError(err, 'Job nope not found')
