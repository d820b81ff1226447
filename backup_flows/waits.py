"""Polling of cloud resources with the configured timeout and interval.

Most state changes (pause, snapshot of a small volume, attach) finish within
a second, a few take minutes: polls start FIRST_INTERVAL apart and double up
to ``wait_interval``, so short changes are seen at once without polling long
ones any more often than configured.
"""

import itertools
import time

from openstack import exceptions as sdk_exc

from backup_flows import conf as bf_conf
from backup_flows import exceptions

CONF = bf_conf.CONF
FIRST_INTERVAL = 0.25


def intervals():
    """Seconds to sleep between polls: FIRST_INTERVAL, doubling, then
    ``wait_interval`` for ever."""
    interval = min(FIRST_INTERVAL, CONF.wait_interval)
    while interval < CONF.wait_interval:
        yield interval
        interval *= 2
    yield from itertools.repeat(CONF.wait_interval)


def wait_for(kind, ident, fetch, ready, failed=(), timeout=None):
    """Poll ``fetch()`` until ``ready(resource)`` and return the resource.

    :param kind: resource kind for messages (``'Image'``).
    :param ident: resource id for messages.
    :param fetch: callable returning the resource's current state; it may
        raise openstacksdk's NotFoundException.
    :param ready: predicate on the resource, or a status string.
    :param failed: statuses meaning the resource will never get ready.
    :raises: ResourceTimeout, ResourceFailed, NotFound.
    """
    timeout = CONF.wait_timeout if timeout is None else timeout
    if isinstance(ready, str):
        target = ready
        ready = lambda res: _status(res) == target  # noqa: E731
    else:
        target = 'ready'
    deadline = time.monotonic() + timeout
    pauses = intervals()
    last = None
    while True:
        try:
            resource = fetch()
        except sdk_exc.NotFoundException:
            raise exceptions.NotFound(kind=kind, ident=ident)
        last = _status(resource)
        if ready(resource):
            return resource
        if last in failed:
            raise exceptions.ResourceFailed(kind=kind, ident=ident,
                                            status=last)
        if time.monotonic() >= deadline:
            raise exceptions.ResourceTimeout(kind=kind, ident=ident,
                                             status=target, timeout=timeout,
                                             last=last)
        time.sleep(next(pauses))


def wait_for_delete(kind, ident, fetch, timeout=None):
    """Poll ``fetch()`` until it raises NotFoundException."""
    timeout = CONF.wait_timeout if timeout is None else timeout
    deadline = time.monotonic() + timeout
    pauses = intervals()
    while True:
        try:
            resource = fetch()
        except sdk_exc.NotFoundException:
            return
        if time.monotonic() >= deadline:
            raise exceptions.ResourceTimeout(kind=kind, ident=ident,
                                             status='deleted',
                                             timeout=timeout,
                                             last=_status(resource))
        time.sleep(next(pauses))


def _status(resource):
    status = getattr(resource, 'status', None)
    return status.lower() if isinstance(status, str) else status
