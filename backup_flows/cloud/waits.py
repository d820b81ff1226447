"""Polling of cloud resources with the configured timeout and interval.

Most state changes (pause, snapshot of a small volume, attach) finish within
a second, a few take minutes: polls start FIRST_INTERVAL apart and then come
a twentieth of the time waited so far apart, up to ``wait_interval``, so
that a change is seen at most about 5 % late (a 10 s upload is seen within
half a second) without polling long waits any more often than configured.
"""

import time

from openstack import exceptions as sdk_exc

from backup_flows import conf as bf_conf
from backup_flows import exceptions

CONF = bf_conf.CONF
FIRST_INTERVAL = 0.25
# Longest delay of a poll after the change, as a fraction of the time waited.
LATENESS = 0.05


def interval(elapsed):
    """Seconds to sleep before the next poll, ``elapsed`` seconds into a
    wait: FIRST_INTERVAL, later a twentieth of ``elapsed``, at most
    ``wait_interval``."""
    return min(CONF.wait_interval, max(FIRST_INTERVAL, elapsed * LATENESS))


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
    start = time.monotonic()
    deadline = start + timeout
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
        time.sleep(interval(time.monotonic() - start))


def wait_for_delete(kind, ident, fetch, timeout=None):
    """Poll ``fetch()`` until it raises NotFoundException."""
    timeout = CONF.wait_timeout if timeout is None else timeout
    start = time.monotonic()
    deadline = start + timeout
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
        time.sleep(interval(time.monotonic() - start))


def _status(resource):
    status = getattr(resource, 'status', None)
    return status.lower() if isinstance(status, str) else status
