"""The state file and process checks."""

import json
import os
import stat
import subprocess
import sys
import time

import fixtures

from tools.minicloud import procs
from tools.minicloud import state as state_mod
from tools.minicloud.components import REGISTRY

from tests.unit.minicloud import base

SLEEPER = [sys.executable, '-c', 'import time; time.sleep(60)']


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class StateFileTestCase(base.MiniCloudTestCase):

    def test_missing_file_is_empty_state(self):
        self.assertEqual({'services': {}}, state_mod.load(self.s))

    def test_corrupt_file_is_empty_state(self):
        for text in ('{"services": {', '[1, 2]', ''):
            os.makedirs(os.path.dirname(self.s.state), exist_ok=True)
            with open(self.s.state, 'w') as f:
                f.write(text)
            self.assertEqual({'services': {}}, state_mod.load(self.s))

    def test_save_then_load(self):
        state = {'services': {}, 'ready': True, 'secrets': {'admin': 'pw'}}
        state_mod.save(self.s, state)
        self.assertEqual(state, state_mod.load(self.s))

    def test_mode_0600_whatever_the_umask(self):
        old = os.umask(0)
        self.addCleanup(os.umask, old)
        state_mod.save(self.s, {'services': {}})
        self.assertEqual(0o600, mode(self.s.state))

    def test_replaces_a_world_readable_file(self):
        os.makedirs(os.path.dirname(self.s.state))
        with open(self.s.state, 'w') as f:
            f.write('{}')
        os.chmod(self.s.state, 0o644)
        state_mod.save(self.s, {'services': {}, 'ready': False})
        self.assertEqual(0o600, mode(self.s.state))
        self.assertEqual({'services': {}, 'ready': False},
                         state_mod.load(self.s))

    def test_failed_write_keeps_old_file_and_no_temp(self):
        state_mod.save(self.s, {'services': {}, 'ready': True})

        def broken(src, dst):
            raise OSError('disk full')

        self.useFixture(fixtures.MonkeyPatch('os.replace', broken))
        self.assertRaises(OSError, state_mod.save, self.s,
                          {'services': {}, 'ready': False})
        self.assertTrue(state_mod.load(self.s)['ready'])
        self.assertEqual(['state.json'],
                         os.listdir(os.path.dirname(self.s.state)))

    def test_write_private_clouds_yaml(self):
        state_mod.write_private(self.s.clouds_yaml, 'clouds: {}\n')
        self.assertEqual(0o600, mode(self.s.clouds_yaml))

    def test_components_inferred_from_old_state(self):
        old = json.loads(json.dumps({'services': {
            'keystone': {}, 'cinder-backup': {}}, 'ready': True}))
        self.assertEqual(['cinder-backup'],
                         state_mod.components_on(old, REGISTRY))
        del old['services']['cinder-backup']
        self.assertEqual([], state_mod.components_on(old, REGISTRY))
        self.assertEqual([], state_mod.components_on(
            {'services': {'cinder-backup': {}}, 'components': []}, REGISTRY))


class AliveTestCase(base.MiniCloudTestCase):

    def test_real_child(self):
        p = subprocess.Popen(SLEEPER)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        svc = {'pid': p.pid, 'start_time': procs.start_time(p.pid)}
        self.assertIsNotNone(svc['start_time'])
        self.assertTrue(procs.alive(svc))
        self.assertFalse(procs.alive(dict(svc, start_time='1')))
        p.kill()
        p.wait()
        self.assertFalse(procs.alive(svc))

    def test_zombie_is_dead(self):
        p = subprocess.Popen(SLEEPER)
        self.addCleanup(p.wait)
        svc = {'pid': p.pid, 'start_time': procs.start_time(p.pid)}
        p.kill()
        # not reaped (no wait yet): a zombie until the cleanup
        deadline = time.time() + 10
        while procs._stat(p.pid)[0] != 'Z' and time.time() < deadline:
            time.sleep(0.01)
        self.assertEqual('Z', procs._stat(p.pid)[0])
        self.assertFalse(procs.alive(svc))

    def test_dead_or_missing_pid(self):
        p = subprocess.Popen(['true'])
        p.wait()
        self.assertFalse(procs.alive({'pid': p.pid, 'start_time': '1'}))
        self.assertFalse(procs.alive({'pid': None}))
        self.assertFalse(procs.alive({}))

    def test_spawn_and_kill(self):
        svc = procs.spawn(self.s, 'sleeper', SLEEPER, {'X': '1'}, 1234)
        self.addCleanup(procs.kill, svc, 0.1)
        self.assertTrue(procs.alive(svc))
        self.assertEqual(
            {'pid', 'start_time', 'cmd', 'env', 'log', 'port'}, set(svc))
        self.assertEqual(self.s.log_path('sleeper'), svc['log'])
        self.assertEqual(1234, svc['port'])
        self.assertEqual(svc['pid'], os.getpgid(svc['pid']))
        procs.kill(svc, grace=5)
        self.assertFalse(procs.alive(svc))
