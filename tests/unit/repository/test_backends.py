"""Storage backends: URL parsing, plugin loading, file atomicity and the
swift backend's retries (against a fake object store)."""

import datetime
import os
import time
from unittest import mock

from openstack import exceptions as sdk_exc

from backup_flows import exceptions
from backup_flows.repository import backends
from backup_flows.repository.backends import base as backend_base
from backup_flows.repository.backends import file as file_backend
from backup_flows.repository.backends import swift as swift_backend

from tests.unit.repository import base


class LoadBackendTest(base.RepositoryTestCase):

    def test_urls(self):
        self.assertEqual(('file', '/srv/b', {}), backends.parse_url('/srv/b'))
        self.assertEqual(('file', '/srv/b', {}),
                         backends.parse_url('file:///srv/b'))
        self.assertEqual(('swift', 'bk/prod/x', {'cloud': 'c2'}),
                         backends.parse_url('swift://bk/prod/x/?cloud=c2'))

    def test_plugins_and_defaults(self):
        backend = backends.load_backend(self.path())
        self.assertIsInstance(backend, file_backend.FileBackend)
        swift = backends.load_backend(
            'swift://bk/prefix?retries=1', defaults={'cloud': 'site',
                                                     'retries': 7},
            connection=mock.Mock())
        self.assertEqual(('bk', 'prefix/', 1, 'site'),
                         (swift.container, swift.prefix, swift.retries,
                          swift.options['cloud']))
        # a URL naming no plugin, or a location its plugin refuses: bad
        # input (exit 2), not a broken plugin
        error = self.assertRaises(exceptions.InvalidInput,
                                  backends.load_backend, 's3://bucket')
        self.assertIn("unknown scheme 's3'", str(error))
        self.assertIn('file, swift', str(error))
        error = self.assertRaises(exceptions.InvalidInput,
                                  backends.load_backend, 'swift://')
        self.assertIn('swift URL needs a container', str(error))
        self.assertRaises(exceptions.InvalidInput, backends.load_backend,
                          'swift:bucket')


class FileBackendTest(base.RepositoryTestCase):

    def test_objects(self):
        backend = file_backend.FileBackend(self.path(), {})
        backend.put('packs/ab/abc', b'x' * 10)
        backend.put('packs/ab/abd', bytearray(b'y'))
        backend.put('index/i1', memoryview(b'zz'))
        self.assertEqual(b'x' * 10, backend.get('packs/ab/abc'))
        self.assertEqual(b'xxx', backend.get_range('packs/ab/abc', 7, 10))
        self.assertEqual([('packs/ab/abc', 10), ('packs/ab/abd', 1)],
                         list(backend.list('packs/')))
        self.assertEqual([('packs/ab/abd', 1)],
                         list(backend.list('packs/ab/abd')))
        self.assertRaises(backend_base.ObjectNotFound, backend.get, 'nope')
        self.assertFalse(backend.exists('nope'))
        backend.delete('packs/ab/abc')
        backend.delete('packs/ab/abc')
        self.assertFalse(backend.exists('packs/ab/abc'))

    def test_interrupted_writes_are_invisible_then_purged(self):
        backend = file_backend.FileBackend(self.path(), {})
        with mock.patch.object(os, 'fsync', side_effect=OSError('disk')):
            self.assertRaises(OSError, backend.put, 'index/i1', b'data')
        self.assertEqual([], list(backend.list('')))
        self.assertEqual([], os.listdir(self.path('repo/index')))
        with open(os.path.join(self.path(), 'index', '.tmp-left'), 'w'):
            pass  # what a kill -9 during put leaves
        self.assertEqual([], list(backend.list('index/')))
        self.assertEqual(1, backend.purge_temporaries())
        self.assertEqual([], os.listdir(self.path('repo/index')))

    def test_conditional_create_and_times(self):
        backend = file_backend.FileBackend(self.path(), {})
        backend.create('locks/exclusive', b'mine')
        self.assertRaises(backend_base.ObjectExists, backend.create,
                          'locks/exclusive', b'theirs')
        self.assertEqual(b'mine', backend.get('locks/exclusive'))
        # No temporary file is left by either create.
        self.assertEqual(['exclusive'], os.listdir(self.path('repo/locks')))
        then = time.time() - 1000
        os.utime(self.path('repo/locks/exclusive'), (then, then))
        (name, size, modified), = backend.list_modified('locks/')
        self.assertEqual(('locks/exclusive', 4), (name, size))
        self.assertAlmostEqual(then, modified, delta=1)

    def test_only_old_temporaries_are_purged(self):
        backend = file_backend.FileBackend(self.path(), {})
        backend.put('index/i1', b'data')
        old, new = (os.path.join(self.path(), 'index', '.tmp-' + n)
                    for n in ('old', 'new'))
        for path in (old, new):
            with open(path, 'w'):
                pass
        then = time.time() - 1000
        os.utime(old, (then, then))
        self.assertEqual(1, backend.purge_temporaries(
            older_than=time.time() - 100))
        self.assertEqual(['.tmp-new', 'i1'],
                         sorted(os.listdir(self.path('repo/index'))))


def _http_error(status):
    response = mock.Mock(status_code=status, headers={}, text='', url='u')
    return sdk_exc.HttpException(message='status %d' % status,
                                 response=response)


class SwiftBackendTest(base.RepositoryTestCase):

    def setUp(self):
        super().setUp()
        self.store = mock.Mock()
        self.backend = swift_backend.SwiftBackend(
            'bk/pre', {'retries': '3'},
            connection=mock.Mock(object_store=self.store))
        self.sleep = self.useFixture(base.fixtures.MockPatch(
            'time.sleep')).mock

    def test_transient_errors_are_retried(self):
        self.store.upload_object.side_effect = [
            _http_error(503), sdk_exc.SDKException('connection reset'),
            None]
        self.backend.put('packs/ab/abc', b'data')
        self.assertEqual(3, self.store.upload_object.call_count)
        self.store.upload_object.assert_called_with(
            'bk', 'pre/packs/ab/abc', data=b'data')
        self.assertEqual(2, self.sleep.call_count)
        self.store.create_container.assert_called_once_with(name='bk')

    def test_retries_are_bounded(self):
        self.store.download_object.side_effect = _http_error(500)
        self.assertRaises(sdk_exc.HttpException, self.backend.get, 'config')
        self.assertEqual(4, self.store.download_object.call_count)

    def test_permanent_errors_are_not_retried(self):
        self.store.download_object.side_effect = _http_error(403)
        self.assertRaises(sdk_exc.HttpException, self.backend.get, 'config')
        self.assertEqual(1, self.store.download_object.call_count)
        self.store.download_object.side_effect = sdk_exc.NotFoundException(
            'gone')
        self.assertRaises(backend_base.ObjectNotFound, self.backend.get,
                          'config')

    def test_ranges_and_listing(self):
        self.store.get.return_value = mock.Mock(status_code=206,
                                                content=b'abc')
        self.assertEqual(b'abc', self.backend.get_range('packs/x', 10, 3))
        self.store.get.assert_called_once_with(
            'bk/pre/packs/x', headers={'Range': 'bytes=10-12'})
        self.store.get.return_value = mock.Mock(status_code=416)
        self.assertEqual(b'', self.backend.get_range('packs/x', 99, 3))
        self.store.objects.return_value = [
            mock.Mock(content_length=5), mock.Mock(content_length=None)]
        self.store.objects.return_value[0].name = 'pre/index/a'
        self.store.objects.return_value[1].name = 'pre/index/b'
        self.assertEqual([('index/a', 5), ('index/b', 0)],
                         list(self.backend.list('index/')))
        self.store.objects.assert_called_once_with('bk', prefix='pre/index/')

    def test_conditional_create(self):
        put = self.store.put
        self.backend.create_settle = 0.5
        # Created, and still ours once racing creates have landed.
        put.return_value = mock.Mock(status_code=201)
        self.store.get.return_value = mock.Mock(status_code=200,
                                                content=b'mine')
        self.backend.create('locks/exclusive', b'mine')
        put.assert_called_once_with('bk/pre/locks/exclusive', data=b'mine',
                                    headers={'If-None-Match': '*'})
        self.store.get.assert_called_once_with(
            'bk/pre/locks/exclusive', headers={'X-Newest': 'true'})
        self.sleep.assert_called_once_with(0.5)
        # Created too, but a racing create landed last: not ours.
        self.store.get.return_value = mock.Mock(status_code=200,
                                                content=b'theirs')
        self.assertRaises(backend_base.ObjectExists, self.backend.create,
                          'locks/exclusive', b'mine')
        # Already there.
        put.return_value = mock.Mock(status_code=412)
        self.assertRaises(backend_base.ObjectExists, self.backend.create,
                          'locks/exclusive', b'mine')

    def test_listing_times(self):
        self.store.objects.return_value = [mock.Mock(
            content_length=3, last_modified_at='2026-12-01T15:16:47.971820')]
        self.store.objects.return_value[0].name = 'pre/packs/ab/x'
        (name, size, modified), = self.backend.list_modified('packs/')
        self.assertEqual(('packs/ab/x', 3), (name, size))
        self.assertEqual(datetime.datetime(
            2026, 12, 1, 15, 16, 47, 971820,
            tzinfo=datetime.timezone.utc).timestamp(), modified)

    def test_unknown_cloud(self):
        backend = swift_backend.SwiftBackend('bk', {'cloud': 'nowhere'})
        with mock.patch('openstack.connect', side_effect=(
                sdk_exc.ConfigException('Cloud nowhere was not found'))):
            error = self.assertRaises(exceptions.CloudConfigError,
                                      backend.get, 'config')
        self.assertIn('nowhere', str(error))
