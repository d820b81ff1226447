"""The request context: who calls, in which project, with which request id.

:class:`ContextMiddleware` builds a :class:`RequestContext` from the
identity headers the authentication middleware set (keystonemiddleware's
``X-User-Id``, ``X-Project-Id``, ``X-Roles``, ...) and stores it in the
environ under :data:`CONTEXT_ENVIRON` for the handlers.
"""

from oslo_context import context
from oslo_middleware import request_id
import webob.dec

from backup_flows.api import errors
from backup_flows.api import handler

CONTEXT_ENVIRON = 'backup_flows.context'


class RequestContext(context.RequestContext):
    """A project-scoped request context.

    ``config``: the service's ConfigOpts, for handlers' run-time options.
    """

    def __init__(self, *args, config=None, **kwargs):
        self.config = config
        super().__init__(*args, **kwargs)

    def can(self, action, target=None):
        """Authorize ``action`` on ``target`` (default: own project, user).

        :raises: the policy module's error when the rule refuses.
        """
        # Imported here: the policy engine is loaded by the first request
        # that checks a rule, not by whatever imports the API.
        from backup_flows import policy

        if target is None:
            target = {'project_id': self.project_id,
                      'user_id': self.user_id}
        return policy.authorize(self, action, target)


class ContextMiddleware:
    """Build the request context; refuse requests without a user or project.

    On a public path (the version document) the context is anonymous:
    identity headers there were checked by nobody, so they are ignored.
    """

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf

    @webob.dec.wsgify
    def __call__(self, req):
        environ = req.environ
        ids = {'request_id': environ.get(request_id.ENV_REQUEST_ID),
               'global_request_id': environ.get(request_id.GLOBAL_REQ_ID),
               'config': self.conf}
        if req.path_info in handler.PUBLIC_PATHS:
            ctx = RequestContext(**ids)
        else:
            ctx = RequestContext.from_environ(environ, **ids)
            if not ctx.user_id:
                return errors.error_response(
                    401, errors.AUTH_REQUIRED_DETAIL, environ)
            if not ctx.project_id:
                # Every resource belongs to a project: system- and
                # domain-scoped tokens have nothing to act on.
                return errors.error_response(
                    403, 'This API needs a project-scoped token.', environ,
                    code=errors.PROJECT_SCOPE_REQUIRED)
        environ[CONTEXT_ENVIRON] = ctx
        return self.application
