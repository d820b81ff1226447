"""The service database (oslo.db, alembic): the catalog of snapshots,
backups, restores and jobs of every project, and the trust references.

:mod:`.api` owns the oslo.db transaction context, :mod:`.models` the
tables, :mod:`.migration` the schema versions; :mod:`.catalog` and
:mod:`.trusts` are the queries. The repository manifests stay the truth for
what a backup holds: the catalog can be rebuilt from them.
"""
