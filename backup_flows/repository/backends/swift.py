"""``swift`` backend: a repository in an OpenStack Swift container.

URL: ``swift://container/prefix?cloud=NAME`` (also ``retries=N`` and
``create_settle=SECONDS``). The connection is built from
the clouds.yaml entry ``NAME`` with ``openstack.connect(cloud=NAME)`` (the
``OS_CLOUD`` environment variable is used when ``cloud`` is absent) and all
requests go through its ``object_store`` proxy. Swift PUTs are atomic per
object. :meth:`SwiftBackend.create` is a PUT with ``If-None-Match: *``
(Swift answers 412 when the object exists); Swift checks it when the PUT
starts, so of several creates racing each other more than one may succeed:
each waits ``create_settle`` seconds (default 2, far longer than a PUT of a
lock takes) and reads the object back with ``X-Newest``, and only the one
whose bytes are there (the newest) has created it. Requests failing with a
transient error (connection problems, HTTP 408, 429 and 5xx) are retried
with exponential back-off.
"""

import datetime
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


def _timestamp(value):
    """Seconds since the epoch of a listing's ``last_modified`` (UTC,
    ISO 8601 without a zone), ``None`` if absent or unreadable."""
    if not value:
        return None
    try:
        when = datetime.datetime.fromisoformat(str(value).rstrip('Z'))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


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
        self.create_settle = float(options.get('create_settle', 2))
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

    def _create(self, name, data):
        response = self._store.put(
            '%s/%s' % (self.container, self.prefix + name), data=data,
            headers={'If-None-Match': '*'})
        if response.status_code == 412:
            return False
        sdk_exc.raise_from_response(response)
        return True

    def _read_newest(self, name):
        response = self._store.get(
            '%s/%s' % (self.container, self.prefix + name),
            headers={'X-Newest': 'true'})
        if response.status_code == 404:
            return None
        sdk_exc.raise_from_response(response)
        return response.content

    def create(self, name, data):
        self._ensure_container()
        data = bytes(data)
        if not self._call('create of %s' % name, self._create, name, data):
            # 412, or a retry that met our own first PUT (then a racing
            # create may have passed too): settle as well.
            LOG.debug('Object %s exists', name)
        # Swift checks If-None-Match when a PUT starts: creates racing each
        # other may all succeed, and the newest wins once all have landed.
        # Wait for those in flight, then read the newest copy.
        time.sleep(self.create_settle)
        stored = self._call('read-back of %s' % name, self._read_newest,
                            name)
        # Also after a retry that met our own first PUT: an object holding
        # exactly our bytes (lock documents are unique) is ours.
        if stored != data:
            raise base.ObjectExists(name)

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
        for name, size, _ in self.list_modified(prefix):
            yield name, size

    def list_modified(self, prefix):
        try:
            objects = self._call(
                'listing', lambda: list(self._store.objects(
                    self.container, prefix=self.prefix + prefix)))
        except sdk_exc.NotFoundException:
            return
        for obj in objects:
            yield (obj.name[len(self.prefix):], obj.content_length or 0,
                   _timestamp(obj.last_modified_at))

    def delete(self, name):
        self._call('delete of %s' % name, self._store.delete_object,
                   self.prefix + name, ignore_missing=True,
                   container=self.container)

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None
