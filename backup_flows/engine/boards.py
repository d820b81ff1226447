"""Jobboards: where jobs are posted for ``backup-flows-conductor``.

A driver is a plugin of the ``backup_flows.jobboards`` namespace (selected
by ``[jobboard] backend``): a TaskFlow jobboard whose claims expire unless
their owner renews them, with two additions a conductor uses:

- ``claim(job, who)`` claims with ``[jobboard] claim_expiry``;
- ``renew(job, who)`` extends the claim only if ``who`` still owns it and
  returns whether it did (stock TaskFlow's ``extend_expiry`` extends
  whoever owns it, so a conductor that lost its claim would keep it
  alive for the new owner and never notice).
"""

import contextlib

from oslo_log import log as logging
from taskflow import exceptions as tf_exc
from taskflow.jobs.backends import impl_redis

from backup_flows import conf as bf_conf
from backup_flows import exceptions
from backup_flows import plugins

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

_RENEW_SCRIPT = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0
"""


class RedisBoard(impl_redis.RedisJobBoard):
    """TaskFlow's Redis jobboard with expiring, ownership-checked claims."""

    def __init__(self, name, persistence, conf=CONF):
        group = conf.jobboard
        options = {'host': group.redis_host, 'port': group.redis_port,
                   'db': group.redis_db, 'namespace': group.name,
                   'socket_timeout': 10.0, 'socket_connect_timeout': 5.0}
        if group.redis_username:
            options['username'] = group.redis_username
        if group.redis_password:
            options['password'] = group.redis_password
        if group.redis_sentinel:
            options['sentinel'] = group.redis_sentinel
            options['sentinel_fallbacks'] = group.redis_sentinel_fallbacks
        super().__init__(name, options, persistence=persistence)
        self._expiry = group.claim_expiry
        self._renew_script = None

    def claim(self, job, who, expiry=None):
        return super().claim(job, who, expiry=expiry or self._expiry)

    def renew(self, job, who):
        """Extend ``who``'s claim on ``job``; False if it no longer owns
        it (the claim expired and maybe another conductor took it)."""
        with impl_redis._translate_failures():
            if self._renew_script is None:
                self._renew_script = self._client.register_script(
                    _RENEW_SCRIPT)
            renewed = self._renew_script(
                keys=[job.owner_key],
                args=[self._encode_owner(who), int(self._expiry * 1000)])
        return bool(renewed)


def load_board(persistence, conf=CONF):
    """The configured jobboard, not yet connected."""
    factory = plugins.load(plugins.JOBBOARDS, conf.jobboard.backend)
    return factory(conf.jobboard.name, persistence, conf=conf)


@contextlib.contextmanager
def connected(persistence, conf=CONF):
    """The configured jobboard, connected for the ``with`` block; a board
    that cannot be reached raises JobboardUnavailable."""
    board = load_board(persistence, conf)
    try:
        board.connect()
    except tf_exc.JobFailure as exc:
        raise _unavailable(conf, exc) from None
    try:
        yield board
    except tf_exc.JobFailure as exc:
        raise _unavailable(conf, exc) from None
    finally:
        board.close()


def _unavailable(conf, exc):
    cause = exc.cause if getattr(exc, 'cause', None) else exc
    return exceptions.JobboardUnavailable(
        board=conf.jobboard.name, backend=conf.jobboard.backend,
        where='%s:%s' % (conf.jobboard.redis_host, conf.jobboard.redis_port),
        reason=' '.join(str(cause).split()))
