"""Catalog queries: create, get, list, update and delete the snapshots,
backups, restores and jobs of a project.

``model`` is one of :class:`~.models.Snapshot`, :class:`~.models.Backup`,
:class:`~.models.Restore` and :class:`~.models.Job`; rows come back as
plain dicts. ``context`` is the caller's request context (``project_id``,
``user_id``). Every query is limited to ``context.project_id`` unless
``all_projects`` is true (the caller has checked that it may act on every
project): another project's row is *not found*, so its ids reveal
nothing.

Listings are ordered by ``(created_at, id)`` and paged by keyset: the
marker is the id of the last row of the previous page.
"""

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as db_utils
from oslo_utils import uuidutils
import sqlalchemy as sa

from backup_flows import exceptions
from backup_flows.db import api
from backup_flows.db import models

# Columns a listing may filter on by equality; each has an index (see
# models.py) or is a small residue of one.
FILTERS = {
    models.Snapshot: ('server_id', 'status'),
    models.Backup: ('server_id', 'status'),
    models.Restore: ('backup_id', 'server_id', 'status'),
    models.Job: ('flow', 'state', 'resource_type', 'resource_id'),
}
SORT_DIRS = ('asc', 'desc')
_SORT_KEYS = ['created_at', 'id']
# Who owns a row and when it came are facts, not values to update.
_IMMUTABLE = frozenset(('id', 'project_id', 'user_id', 'created_at'))


def _scoped(statement, model, context, all_projects):
    if all_projects:
        return statement
    return statement.where(model.project_id == context.project_id)


def _status_column(model):
    return getattr(model, model.STATUS_COLUMN)


def _check_status(model, values):
    status = values.get(model.STATUS_COLUMN)
    if model.STATUSES and status is not None and status not in model.STATUSES:
        raise ValueError('%s status %r is not one of: %s'
                         % (model.KIND, status, ', '.join(model.STATUSES)))


def _get_row(session, model, context, ident, all_projects, fresh=False):
    statement = _scoped(sa.select(model).where(model.id == ident), model,
                        context, all_projects)
    if fresh:
        # after an UPDATE in this session: not the copy loaded before it
        statement = statement.execution_options(populate_existing=True)
    row = session.scalars(statement).first()
    if row is None:
        raise exceptions.CatalogEntryNotFound(kind=model.KIND, ident=ident)
    return row


def create_entry(context, model, values):
    """Create a row of ``model``; return it.

    ``values`` are its columns; ``id`` (default: a new UUID),
    ``project_id`` and ``user_id`` (default: the context's) and the status
    (default: the model's first status) may be left out. An id already
    used raises :class:`~backup_flows.exceptions.CatalogEntryExists`.
    """
    values = dict(values)
    values.setdefault('id', uuidutils.generate_uuid())
    values.setdefault('project_id', context.project_id)
    values.setdefault('user_id', context.user_id)
    if model.INITIAL_STATUS:
        values.setdefault(model.STATUS_COLUMN, model.INITIAL_STATUS)
    _check_status(model, values)
    row = model(**values)
    try:
        with api.writer(context) as session:
            session.add(row)
            session.flush()
            return row.to_dict()
    except db_exc.DBDuplicateEntry:
        raise exceptions.CatalogEntryExists(kind=model.KIND,
                                            ident=values['id'])


def get_entry(context, model, ident, all_projects=False):
    """The row ``ident`` of ``model``; raises
    :class:`~backup_flows.exceptions.CatalogEntryNotFound` when the
    listing scope (the context's project, or all) has no such row."""
    with api.reader(context) as session:
        return _get_row(session, model, context, ident, all_projects
                        ).to_dict()


def _check_listing(model, filters, limit, sort_dir):
    unknown = sorted(set(filters) - set(FILTERS[model]))
    if unknown:
        raise exceptions.InvalidInput(
            reason='%s listings cannot filter on %s; they filter on: %s'
                   % (model.KIND, ', '.join(unknown),
                      ', '.join(FILTERS[model])))
    status = filters.get(model.STATUS_COLUMN)
    if model.STATUSES and status is not None and status not in model.STATUSES:
        raise exceptions.InvalidInput(
            reason='%s %r is not one of: %s'
                   % (model.STATUS_COLUMN, status, ', '.join(model.STATUSES)))
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise exceptions.InvalidInput(
            reason='limit %r is not a whole number >= 1' % (limit,))
    if sort_dir not in SORT_DIRS:
        raise exceptions.InvalidInput(
            reason='sort direction %r is not one of: %s'
                   % (sort_dir, ', '.join(SORT_DIRS)))


def list_entries(context, model, filters=None, limit=None, marker=None,
                 sort_dir='asc', all_projects=False):
    """Rows of ``model`` ordered by ``(created_at, id)`` (``sort_dir``
    ``asc`` or ``desc``), at most ``limit`` of them, after the row whose id
    is ``marker``.

    ``filters``: {column: value} of the columns in :data:`FILTERS`. Bad
    input (an unknown filter or status, a limit below 1, a marker that is
    no row of the listing's scope) raises
    :class:`~backup_flows.exceptions.InvalidInput` (a marker:
    :class:`~backup_flows.exceptions.InvalidMarker`).
    """
    filters = dict(filters or {})
    _check_listing(model, filters, limit, sort_dir)
    with api.reader(context) as session:
        statement = _scoped(sa.select(model), model, context, all_projects)
        statement = statement.filter_by(**filters)
        marker_row = None
        if marker is not None:
            marker_row = session.scalars(_scoped(
                sa.select(model).where(model.id == marker), model, context,
                all_projects)).first()
            if marker_row is None:
                raise exceptions.InvalidMarker(marker=marker,
                                               kind=model.KIND.lower())
            # paginate_query's "after the marker" is an OR of two
            # comparisons, which no database seeks an index with; this
            # bound makes the page a range read starting at the marker.
            created_at = marker_row.created_at
            statement = statement.where(
                model.created_at >= created_at if sort_dir == 'asc'
                else model.created_at <= created_at)
        statement = db_utils.paginate_query(
            statement, model, limit, _SORT_KEYS, marker=marker_row,
            sort_dir=sort_dir)
        return [row.to_dict() for row in session.scalars(statement)]


def _changed_one(session, model, context, ident, result, expected,
                 all_projects):
    """Raise why ``result`` (an UPDATE or DELETE of row ``ident``)
    changed nothing: no such row, or not in an ``expected`` status."""
    if result.rowcount == 1:
        return
    row = _get_row(session, model, context, ident, all_projects, fresh=True)
    raise exceptions.CatalogStatusConflict(
        kind=model.KIND, ident=ident,
        status=getattr(row, model.STATUS_COLUMN),
        expected=', '.join(expected or ()))


def _where_row(statement, model, context, ident, expected, all_projects):
    statement = _scoped(statement.where(model.id == ident), model, context,
                        all_projects)
    if expected is not None:
        statement = statement.where(_status_column(model).in_(expected))
    return statement.execution_options(synchronize_session=False)


def update_entry(context, model, ident, values, expected=None,
                 all_projects=False):
    """Change the columns ``values`` of row ``ident``; return the row.

    ``expected``: the statuses (states of a job) the row must be in for
    the change, checked in the same statement: of two concurrent changes
    from one status, one wins and the other raises
    :class:`~backup_flows.exceptions.CatalogStatusConflict`. A row outside
    the scope raises :class:`~backup_flows.exceptions.CatalogEntryNotFound`.
    """
    values = dict(values)
    fixed = sorted(_IMMUTABLE.intersection(values))
    if fixed:
        raise ValueError('%s columns %s cannot be updated'
                         % (model.KIND, ', '.join(fixed)))
    _check_status(model, values)
    with api.writer(context) as session:
        statement = _where_row(sa.update(model), model, context, ident,
                               expected, all_projects)
        result = session.execute(statement.values(**values))
        _changed_one(session, model, context, ident, result, expected,
                     all_projects)
        return _get_row(session, model, context, ident, all_projects,
                        fresh=True).to_dict()


def delete_entry(context, model, ident, expected=None, all_projects=False):
    """Delete row ``ident``; ``expected`` and errors as for
    :func:`update_entry`."""
    with api.writer(context) as session:
        statement = _where_row(sa.delete(model), model, context, ident,
                               expected, all_projects)
        result = session.execute(statement)
        _changed_one(session, model, context, ident, result, expected,
                     all_projects)
