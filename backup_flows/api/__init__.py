"""backup-flows-api: the WSGI application (``backup_flows.api.wsgi``).

Layout and conventions: doc/source/contributor/api.rst.
"""
