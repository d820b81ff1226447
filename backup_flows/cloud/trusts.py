"""Keystone trusts: how the service acts for a user after the request.

A trust delegates the user's roles in one project to the ``[trustee]``
service user, impersonating the user (the tokens it gives name the user,
so the cloud's own policies and audit see who asked). It is created with
the user's own token; a token from an application credential may not
create one (Keystone refuses), which callers are told plainly.
"""

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from backup_flows import clients
from backup_flows import conf as bf_conf
from backup_flows import exceptions

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

IDENTITY = {'service_type': 'identity', 'interface': 'public'}


def create_trust(user_auth, user_id, project_id, roles):
    """Create a trust of ``user_id`` in ``project_id`` for the trustee;
    return its id.

    :param user_auth: the caller's keystoneauth plugin (their token).
    :param roles: the caller's role names in the project; ``[trustee]
        roles``, when set, are delegated instead.
    :raises TrustNotAllowed: Keystone refused (an application credential
        token, or a role the user does not hold).
    """
    trustee_id = clients.trustee_session().get_user_id()
    delegated = CONF.trustee.roles or sorted(set(roles))
    body = {'trust': {'trustor_user_id': user_id,
                      'trustee_user_id': trustee_id,
                      'project_id': project_id, 'impersonation': True,
                      'roles': [{'name': name} for name in delegated]}}
    session = clients.user_session(user_auth)
    try:
        response = session.post('/OS-TRUST/trusts', json=body,
                                endpoint_filter=dict(IDENTITY, version=(3,
                                                                        0)))
    except ks_exc.Forbidden as exc:
        raise exceptions.TrustNotAllowed(reason=_reason(exc))
    except ks_exc.ClientException as exc:
        raise exceptions.CloudUnreachable(cloud='identity', reason=exc)
    trust_id = response.json()['trust']['id']
    LOG.info('Created trust %s of user %s in project %s (roles %s)',
             trust_id, user_id, project_id, ', '.join(delegated))
    return trust_id


def delete_trust(trust_id):
    """Delete a trust no job or policy needs any more (a trust already
    gone is fine). Done through the trust itself: its tokens act as the
    trustor, who may delete their trusts."""
    try:
        session = clients.trustee_session(trust_id)
        session.delete('/OS-TRUST/trusts/%s' % trust_id,
                       endpoint_filter=dict(IDENTITY, version=(3, 0)))
    except (ks_exc.NotFound, ks_exc.Unauthorized):
        LOG.info('Trust %s is already gone', trust_id)
        return
    LOG.info('Deleted trust %s', trust_id)


def _reason(exc):
    message = getattr(exc, 'message', None) or str(exc)
    if 'application credential' in message.lower():
        return ('a token from an application credential cannot create '
                'the trust this needs; authenticate with a password or '
                'another method')
    return message
