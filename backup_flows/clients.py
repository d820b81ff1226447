"""Builds openstacksdk connections: the only module that does.

Tasks receive a cloud *name* (a clouds.yaml entry) from the flow store and
call :func:`connect` inside ``execute``/``revert``; connections never enter
the flow store. Connections are cached per process and cloud name.

Every request of a connection goes through one retrying layer
(:class:`RetryingAdapter`, options of ``[cloud]``): urllib3's ``Retry``
mounted on the connection's HTTP session, told which requests may be sent
again. keystoneauth's own retries (``connect_retries``,
``status_code_retries``) are turned off: they do not look at the method, so
they would send again a POST whose answer was lost and create a second
server, image or snapshot.
"""

import contextlib
import itertools
import logging as py_logging
import threading

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
import openstack
from openstack import exceptions as sdk_exc
import openstack.connection
from oslo_log import log as logging
from urllib3 import exceptions as urllib3_exc
from urllib3.util import retry as urllib3_retry

from backup_flows import conf as bf_conf
from backup_flows import exceptions

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

# Methods a service may receive twice with the effect of once.
IDEMPOTENT_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'))
# Statuses by which a service refuses a request before acting on it: the
# only ones after which a POST or PATCH is sent again.
REFUSED_STATUS_CODES = frozenset((429, 503))

_KEYSTONEAUTH_RETRY_KEYS = ('connect_retries', 'status_code_retries')

_UNREACHABLE = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                ks_exc.DiscoveryFailure, ks_exc.EndpointNotFound)

_connections = {}
_lock = threading.Lock()


class RetryPolicy(urllib3_retry.Retry):
    """urllib3's ``Retry`` with backup-flows' backoff and log line.

    ``allowed_methods`` are sent again after a connection failure, a reset,
    a read timeout or a status of ``status_forcelist``; any other method
    only when the connection could not be made (nothing was sent) or after
    a status of :data:`REFUSED_STATUS_CODES` that is in ``status_forcelist``.
    """

    def is_retry(self, method, status_code, has_retry_after=False):
        if method.upper() in self.allowed_methods:
            return super().is_retry(method, status_code, has_retry_after)
        return (status_code in REFUSED_STATUS_CODES and
                status_code in self.status_forcelist)

    def get_backoff_time(self):
        # urllib3 retries the first time at once; wait backoff_factor
        # seconds, then twice as long at each retry, up to backoff_max.
        errors = len(list(itertools.takewhile(
            lambda h: h.redirect_location is None, reversed(self.history))))
        if not errors:
            return 0
        return min(self.backoff_max,
                   self.backoff_factor * 2 ** (errors - 1))

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.backoff_max)

    def increment(self, method=None, url=None, response=None, error=None,
                  _pool=None, _stacktrace=None):
        args = {'method': method, 'url': _where(_pool, url),
                'cause': _cause(response, error)}
        try:
            retry = super().increment(method=method, url=url,
                                      response=response, error=error,
                                      _pool=_pool, _stacktrace=_stacktrace)
        except urllib3_exc.MaxRetryError:
            LOG.warning('Giving up on %(method)s %(url)s after %(count)d '
                        'retries: %(cause)s',
                        dict(args, count=len(self.history)))
            raise
        except Exception:
            LOG.warning('Not sending %(method)s %(url)s again (it may have '
                        'been acted on): %(cause)s', args)
            raise
        delay = None
        if response is not None and self.respect_retry_after_header:
            delay = retry.get_retry_after(response)
        if delay is None:
            delay = retry.get_backoff_time()
        LOG.warning('Retrying %(method)s %(url)s in %(delay)g s '
                    '(%(left)s retries left): %(cause)s',
                    dict(args, delay=delay, left=retry.total))
        return retry


def _where(pool, url):
    """Scheme, host, port and path of a request (no query string)."""
    path = (url or '').split('?', 1)[0]
    if pool is None or '://' in path:
        return path
    return '%s://%s:%s%s' % (pool.scheme, pool.host, pool.port, path)


def _cause(response, error):
    if response is not None:
        return 'HTTP %s %s' % (response.status, response.reason or '')
    if isinstance(error, urllib3_exc.ReadTimeoutError):
        return 'no answer within the read timeout'
    if isinstance(error, urllib3_exc.ProtocolError) and len(error.args) > 1:
        inner = error.args[1]
        return 'connection broken: %s: %s' % (type(inner).__name__, inner)
    return '%s: %s' % (type(error).__name__, error)


def retry_policy(replayable_body=True, conf=None):
    """The :class:`RetryPolicy` of ``[cloud]`` options.

    ``replayable_body=False`` is for requests whose body is a stream read
    once (an image upload from the repository): only a connection that
    could not be made is tried again, since nothing was sent yet.
    """
    group = (conf or CONF).cloud
    common = dict(total=group.retries, connect=group.retries, other=0,
                  redirect=False, raise_on_status=False,
                  allowed_methods=IDEMPOTENT_METHODS,
                  backoff_factor=group.retry_delay,
                  backoff_max=group.retry_delay_max)
    if not replayable_body:
        return RetryPolicy(read=False, status=0, status_forcelist=frozenset(),
                           respect_retry_after_header=False, **common)
    return RetryPolicy(read=group.retries, status=group.retries,
                       status_forcelist=frozenset(group.retry_status_codes),
                       **common)


def _replayable(body):
    """Whether a request body can be sent again from its start."""
    return (body is None or isinstance(body, (bytes, bytearray, str)) or
            (hasattr(body, 'seek') and hasattr(body, 'tell')))


class RetryingAdapter(ks_session.TCPKeepAliveAdapter):
    """The HTTP adapter of every connection: retries and timeouts.

    Requests whose body cannot be sent twice go through a pool whose policy
    never sends them again once they were started; requests sent within
    :func:`tried_once` through a pool that never retries. A request
    without a timeout of its own (none in clouds.yaml) gets
    ``(connect_timeout, read_timeout)``; requests applies the read timeout
    to each wait for bytes, so long streamed transfers are not cut.
    """

    def __init__(self, conf=None, **kwargs):
        group = (conf or CONF).cloud
        self.default_timeout = (group.connect_timeout, group.read_timeout)
        self._streaming = ks_session.TCPKeepAliveAdapter(
            max_retries=retry_policy(False, conf), **kwargs)
        self._once = ks_session.TCPKeepAliveAdapter(max_retries=0, **kwargs)
        super().__init__(max_retries=retry_policy(True, conf), **kwargs)

    def send(self, request, stream=False, timeout=None, **kwargs):
        if timeout is None:
            timeout = self.default_timeout
        if getattr(_tried_once, 'active', False):
            adapter = self._once
        elif not _replayable(request.body):
            adapter = self._streaming
        else:
            return super().send(request, stream=stream, timeout=timeout,
                                **kwargs)
        return adapter.send(request, stream=stream, timeout=timeout, **kwargs)

    def close(self):
        self._streaming.close()
        self._once.close()
        super().close()


_tried_once = threading.local()


@contextlib.contextmanager
def tried_once():
    """Within, this thread's requests are sent once, never retried."""
    previous = getattr(_tried_once, 'active', False)
    _tried_once.active = True
    try:
        yield
    finally:
        _tried_once.active = previous


class _OwnRetryLine(py_logging.Filter):
    """Drops urllib3's warning about a retry: RetryPolicy logs each one."""

    def filter(self, record):
        return not str(record.msg).startswith('Retrying (')


def install_retries(session, conf=None):
    """Mount a :class:`RetryingAdapter` on a keystoneauth session."""
    pool_log = py_logging.getLogger('urllib3.connectionpool')
    if not any(isinstance(f, _OwnRetryLine) for f in pool_log.filters):
        pool_log.addFilter(_OwnRetryLine())
    http = session.session
    for prefix in ('https://', 'http://'):
        old = http.adapters.get(prefix)
        tls = {key: getattr(old, key, None)
               for key in ('tls_ciphers', 'tls_min_version')}
        http.mount(prefix, RetryingAdapter(conf, **tls))
        if old is not None:
            old.close()


def _turn_off_keystoneauth_retries(region):
    """Set every ``[<service>_]connect_retries`` and
    ``[<service>_]status_code_retries`` of a cloud's configuration to 0
    (openstacksdk's defaults retry image requests 5 times on 503, whatever
    their method or body), before any service proxy is built from it."""
    for key in list(region.config):
        if key.endswith(_KEYSTONEAUTH_RETRY_KEYS):
            region.config[key] = 0
    for key in _KEYSTONEAUTH_RETRY_KEYS:
        region.config[key] = 0


def cloud_name(cloud=None):
    """The cloud to act on: the argument, else --os-cloud, else OS_CLOUD."""
    return cloud or CONF.os_cloud or None


def trust_ref(trust_id):
    """The credentials reference of a job acting through a Keystone trust:
    what goes into its store instead of a clouds.yaml name."""
    return {'trust_id': trust_id}


def cloud_label(cloud=None):
    """How a manifest or a message names the cloud acted on: the
    clouds.yaml name, or "trust" for a credentials reference."""
    if isinstance(cloud, dict):
        return 'trust'
    return resolved_cloud(cloud)


def resolved_cloud(cloud=None):
    """The name of the cloud acted on, as recorded in a job's store so that
    whoever resumes the job acts on the same cloud: the argument,
    --os-cloud or OS_CLOUD, else the cloud openstacksdk chose (the only one
    in clouds.yaml, or ``envvars``)."""
    return cloud_name(cloud) or connect(cloud).config.name


def connect(cloud=None):
    """Return a cached openstacksdk Connection for the named cloud, or for
    a credentials reference (:func:`trust_ref`)."""
    if isinstance(cloud, dict):
        return _connect_with_trust(cloud['trust_id'])
    name = cloud_name(cloud)
    with _lock:
        conn = _connections.get(name)
        if conn is None:
            try:
                conn = openstack.connect(cloud=name)
            except sdk_exc.ConfigException as exc:
                raise exceptions.CloudConfigError(
                    cloud=name or '(default)', reason=str(exc).rstrip('.'))
            except ks_exc.OptionError as exc:
                # No clouds.yaml entry and no OS_* variables: keystoneauth
                # misses what openstacksdk found nowhere.
                raise exceptions.CloudConfigError(
                    cloud=name or '(default)', reason='%s (no clouds.yaml '
                    'entry or OS_* variables give it)'
                    % str(exc).rstrip('.'))
            _turn_off_keystoneauth_retries(conn.config)
            install_retries(conn.session)
            _connections[name] = conn
        return conn


def trustee_session(trust_id=None):
    """A keystoneauth session of the ``[trustee]`` service user: scoped to
    ``trust_id``'s project (acting as its trustor), or unscoped."""
    from keystoneauth1 import loading as ks_loading

    extra = {'trust_id': trust_id} if trust_id else {}
    try:
        auth = ks_loading.load_auth_from_conf_options(CONF, 'trustee',
                                                      **extra)
    except ks_exc.ClientException as exc:
        raise exceptions.CloudConfigError(cloud='[trustee]', reason=exc)
    if auth is None:
        raise exceptions.CloudConfigError(
            cloud='[trustee]', reason='no auth_type is set (the service '
            'user acting through trusts is not configured)')
    session = ks_loading.load_session_from_conf_options(CONF, 'trustee',
                                                        auth=auth)
    install_retries(session)
    return session


def _connect_with_trust(trust_id):
    key = 'trust:' + trust_id
    with _lock:
        conn = _connections.get(key)
        if conn is None:
            conn = openstack.connection.Connection(
                session=trustee_session(trust_id),
                region_name=CONF.trustee.region_name,
                interface=CONF.trustee.interface)
            _turn_off_keystoneauth_retries(conn.config)
            _connections[key] = conn
        return conn


def user_session(auth_plugin):
    """A keystoneauth session acting with a caller's own token (the
    ``keystone.token_auth`` plugin keystonemiddleware gives the API)."""
    session = ks_session.Session(auth=auth_plugin)
    install_retries(session)
    return session


def check_cloud(cloud=None):
    """Authenticate now, turning failures into one clear error.

    Called before a command creates anything: the authentication is tried
    once, so that a wrong or unreachable cloud fails the command at once
    rather than after every retry.
    """
    name = ('trust %s' % cloud['trust_id'] if isinstance(cloud, dict)
            else cloud_name(cloud) or '(default)')
    conn = connect(cloud)
    try:
        with tried_once():
            conn.authorize()
    except (ks_exc.ClientException, sdk_exc.SDKException) as exc:
        # openstacksdk wraps keystoneauth's errors: classify the cause.
        cause = exc.__cause__ or exc.__context__ or exc
        if (isinstance(cause, _UNREACHABLE) or isinstance(exc, _UNREACHABLE)
                or getattr(cause, 'http_status', 0) in (502, 503, 504)):
            raise exceptions.CloudUnreachable(cloud=name, reason=cause)
        raise exceptions.CloudConfigError(cloud=name, reason=cause)
    return conn
