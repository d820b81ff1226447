"""``swift`` backend: a repository in an OpenStack Swift container.

URL: ``swift://container/prefix?cloud=NAME``. The connection is built from
the clouds.yaml entry ``NAME`` with ``openstack.connect(cloud=NAME)`` (the
``OS_CLOUD`` environment variable is used when ``cloud`` is absent) and all
requests go through its ``object_store`` proxy. Swift PUTs are atomic per
object. Requests failing with a transient error (connection problems, HTTP
408, 429 and 5xx) are retried with exponential back-off.
"""

import random
import time

import openstack
from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from backup_flows import exceptions
from backup_flows.repository.backends import base

LOG = logging.getLogger(__name__)

_TRANSIENT_STATUS = {408, 409, 429, 500, 502, 503, 504}


def _is_transient(exc):
    if isinstance(exc, sdk_exc.HttpException):
        return exc.status_code in _TRANSIENT_STATUS
    return isinstance(exc, (sdk_exc.SDKException, ConnectionError,
                            TimeoutError, OSError))


class SwiftBackend(base.Backend):
    """Objects are Swift objects named ``<prefix>/<name>`` in a container.

    :param connection: an openstacksdk connection to use instead of building
        one from the ``cloud`` option (tests pass one in).
    """

    def __init__(self, location, options, connection=None):
        super().__init__(location, options)
        container, _, prefix = location.partition('/')
        if not container:
            raise ValueError('swift URL needs a container: '
                             'swift://container/prefix?cloud=NAME')
        self.container = container
        self.prefix = prefix.strip('/') + '/' if prefix.strip('/') else ''
        self.retries = int(options.get('retries', 5))
        self._connection = connection
        self._container_checked = False

    @property
    def _store(self):
        if self._connection is None:
            cloud = self.options.get('cloud')
            try:
                self._connection = openstack.connect(cloud=cloud)
            except sdk_exc.ConfigException as exc:
                raise exceptions.CloudConfigError(cloud=cloud, reason=exc)
        return self._connection.object_store

    def _call(self, what, func, *args, **kwargs):
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                return func(*args, **kwargs)
            except sdk_exc.NotFoundException:
                raise
            except Exception as exc:
                if attempt == self.retries or not _is_transient(exc):
                    raise
                LOG.warning('Swift %s failed (%s), retry %d of %d',
                            what, exc, attempt + 1, self.retries)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 30)

    def _ensure_container(self):
        if not self._container_checked:
            self._call('create container', self._store.create_container,
                       name=self.container)
            self._container_checked = True

    def put(self, name, data):
        self._ensure_container()
        self._call('upload of %s' % name, self._store.upload_object,
                   self.container, self.prefix + name, data=bytes(data))

    def get(self, name):
        try:
            return self._call('download of %s' % name,
                              self._store.download_object,
                              self.prefix + name, container=self.container)
        except sdk_exc.NotFoundException:
            raise base.ObjectNotFound(name)

    def _get_range(self, name, offset, length):
        url = '%s/%s' % (self.container, self.prefix + name)
        response = self._store.get(
            url, headers={'Range': 'bytes=%d-%d' % (offset,
                                                    offset + length - 1)})
        if response.status_code == 416:
            return b''
        sdk_exc.raise_from_response(response)
        return response.content

    def get_range(self, name, offset, length):
        if length <= 0:
            return b''
        try:
            return self._call('range read of %s' % name, self._get_range,
                              name, offset, length)
        except sdk_exc.NotFoundException:
            raise base.ObjectNotFound(name)

    def list(self, prefix):
        try:
            objects = self._call(
                'listing', lambda: list(self._store.objects(
                    self.container, prefix=self.prefix + prefix)))
        except sdk_exc.NotFoundException:
            return
        for obj in objects:
            yield obj.name[len(self.prefix):], obj.content_length or 0

    def delete(self, name):
        self._call('delete of %s' % name, self._store.delete_object,
                   self.prefix + name, ignore_missing=True,
                   container=self.container)

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None
