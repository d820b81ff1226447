"""Storage backends of the backup repository (``backup_flows.storage``).

:func:`load_backend` turns a repository URL into a backend instance:

* ``file:///srv/backups`` or ``/srv/backups`` -> ``file`` plugin
* ``swift://container/prefix?cloud=NAME`` -> ``swift`` plugin
"""

import re
import urllib.parse

from stevedore import driver
from stevedore import exception as stevedore_exc
from stevedore import extension

from backup_flows import exceptions

NAMESPACE = 'backup_flows.storage'


def parse_url(url):
    """Split a repository URL into ``(scheme, location, options)``.

    :raises backup_flows.exceptions.InvalidInput: a URL that names a scheme
        without ``//`` (``swift:backups``): not taken for a relative path.
    """
    if '://' not in url:
        if re.match(r'[A-Za-z][A-Za-z0-9+.-]*:', url):
            raise exceptions.InvalidInput(
                reason='repository URL %s: a URL is SCHEME://LOCATION '
                       '(file:///PATH, swift://CONTAINER); write ./%s for '
                       'a relative path' % (url, url))
        return 'file', url, {}
    parts = urllib.parse.urlsplit(url)
    options = dict(urllib.parse.parse_qsl(parts.query))
    if parts.scheme == 'file':
        return 'file', urllib.parse.unquote(parts.netloc + parts.path), options
    return (parts.scheme,
            urllib.parse.unquote(parts.netloc + parts.path).strip('/'),
            options)


def _available():
    return ', '.join(sorted(extension.ExtensionManager(NAMESPACE).names())
                     ) or 'none'


def load_backend(url, defaults=None, **kwargs):
    """Return the backend plugin instance serving repository ``url``.

    :param defaults: backend options used when the URL query does not set
        them (e.g. ``cloud`` and ``retries`` from the configuration).

    Extra keyword arguments are passed to the backend constructor (e.g. a
    ready ``connection`` for swift).

    :raises backup_flows.exceptions.PluginError: no plugin for the URL
        scheme, or the plugin failed to import or to start.
    """
    scheme, location, options = parse_url(url)
    options = dict({k: str(v) for k, v in (defaults or {}).items()
                    if v is not None}, **options)
    try:
        manager = driver.DriverManager(
            NAMESPACE, scheme, invoke_on_load=True,
            invoke_args=(location, options), invoke_kwds=kwargs,
            on_load_failure_callback=_raise_load_failure)
    except exceptions.BackupFlowsError:
        raise
    except stevedore_exc.NoMatches:
        raise exceptions.InvalidInput(
            reason='repository URL %s: unknown scheme %r; use a path, '
                   'file:///PATH or swift://CONTAINER[/PREFIX][?cloud=NAME] '
                   '(storage plugins: %s)' % (url, scheme, _available()))
    except Exception as exc:
        raise exceptions.PluginError(kind='Storage', name=scheme,
                                     reason='%s: %s' % (type(exc).__name__,
                                                        exc),
                                     available=_available())
    return manager.driver


def _raise_load_failure(manager, entrypoint, exc):
    if isinstance(exc, ValueError):
        # the plugin refused the URL's location or options
        raise exceptions.InvalidInput(reason='repository URL: %s' % exc)
    raise exceptions.PluginError(kind='Storage', name=entrypoint.name,
                                 reason='%s: %s' % (type(exc).__name__, exc),
                                 available=_available())
