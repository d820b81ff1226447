"""Polling of cloud resources with the configured timeout and interval."""

import time

from openstack import exceptions as sdk_exc

from backup_flows import conf as bf_conf
from backup_flows import exceptions

CONF = bf_conf.CONF


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
        time.sleep(CONF.wait_interval)


def wait_for_delete(kind, ident, fetch, timeout=None):
    """Poll ``fetch()`` until it raises NotFoundException."""
    timeout = CONF.wait_timeout if timeout is None else timeout
    deadline = time.monotonic() + timeout
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
        time.sleep(CONF.wait_interval)


def _status(resource):
    status = getattr(resource, 'status', None)
    return status.lower() if isinstance(status, str) else status
