"""Trust references: the one Keystone trust per user and project that
conductors act through, and who still needs it.

The API looks the reference up (:func:`get_reference`); without one it
creates the trust in Keystone and records it (:func:`create_reference`).
Every job or policy that needs the trust is a *holder* of the reference
(:func:`add_holder`); when the last holder is removed
(:func:`remove_holder`) the reference is deleted and its trust id returned:
the caller then deletes the trust in Keystone. Adding or removing a holder
twice changes nothing, so a task re-run after a crash is safe; removing a
holder of a reference already gone returns None.

The Keystone calls are not made here.
"""

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from backup_flows import exceptions
from backup_flows.db import api
from backup_flows.db import models

HOLDER_TYPES = ('job', 'policy')

_Ref = models.TrustReference
_Holder = models.TrustReferenceHolder


def _as_dict(session, ref):
    """The reference as a dict with ``holders``: how many hold it."""
    count = session.scalar(sa.select(sa.func.count()).where(
        _Holder.trust_ref_id == ref.id))
    return dict(ref.to_dict(), holders=count)


def get_reference(context, user_id, project_id):
    """The trust reference of ``user_id`` in ``project_id``, or None."""
    with api.reader(context) as session:
        ref = session.scalars(sa.select(_Ref).where(
            _Ref.user_id == user_id, _Ref.project_id == project_id)).first()
        return None if ref is None else _as_dict(session, ref)


def create_reference(context, user_id, project_id, trust_id):
    """Record ``trust_id`` as the trust of ``user_id`` in ``project_id``;
    return ``(reference, created)``.

    When another request recorded one first (one per user and project, a
    unique constraint), that one is returned with ``created`` False: the
    caller deletes the trust it made and uses the returned one. Call it
    outside any transaction of ``context``: the failed insert ends it.
    """
    ref = _Ref(id=uuidutils.generate_uuid(), trust_id=trust_id,
               user_id=user_id, project_id=project_id)
    try:
        with api.writer(context) as session:
            session.add(ref)
            session.flush()
            return _as_dict(session, ref), True
    except db_exc.DBDuplicateEntry:
        existing = get_reference(context, user_id, project_id)
        if existing is None:
            # the duplicate was the trust id itself
            raise
        return existing, False


def _check_holder_type(holder_type):
    if holder_type not in HOLDER_TYPES:
        raise ValueError('trust reference holder type %r is not one of: %s'
                         % (holder_type, ', '.join(HOLDER_TYPES)))


def add_holder(context, ref_id, holder_type, holder_id):
    """Record that the job or policy ``holder_id`` needs the trust of
    reference ``ref_id`` (already recorded: nothing changes).

    Raises :class:`~backup_flows.exceptions.TrustReferenceNotFound` when
    the reference is gone (its last holder was removed meanwhile): get or
    create the reference again.
    """
    _check_holder_type(holder_type)
    try:
        with api.writer(context) as session:
            session.add(_Holder(trust_ref_id=ref_id, holder_type=holder_type,
                                holder_id=holder_id))
            session.flush()
            # Checked after the insert, which holds the write lock (SQLite)
            # or locks the reference through the foreign key: a concurrent
            # removal of the last holder has either seen this holder or
            # deleted the reference before this check.
            if session.get(_Ref, ref_id) is None:
                raise exceptions.TrustReferenceNotFound(ref_id=ref_id)
    except db_exc.DBDuplicateEntry:
        return
    except db_exc.DBReferenceError:
        raise exceptions.TrustReferenceNotFound(ref_id=ref_id)


def remove_holder(context, ref_id, holder_type, holder_id):
    """Record that ``holder_id`` no longer needs the trust of ``ref_id``.

    Returns the Keystone trust id to delete now when no holder is left (the
    reference is deleted: nobody gets it any more), else None. Running it
    again after a crash between its two steps still returns the trust id.
    """
    _check_holder_type(holder_type)
    with api.writer(context) as session:
        session.execute(sa.delete(_Holder).where(
            _Holder.trust_ref_id == ref_id,
            _Holder.holder_type == holder_type,
            _Holder.holder_id == holder_id).execution_options(
                synchronize_session=False))
    return _delete_if_unheld(context, ref_id)


def _delete_if_unheld(context, ref_id):
    try:
        with api.writer(context) as session:
            trust_id = session.scalar(sa.select(_Ref.trust_id).where(
                _Ref.id == ref_id))
            unheld = ~sa.exists().where(_Holder.trust_ref_id == ref_id)
            deleted = session.execute(sa.delete(_Ref).where(
                _Ref.id == ref_id, unheld).execution_options(
                    synchronize_session=False))
            return trust_id if deleted.rowcount == 1 else None
    except db_exc.DBReferenceError:
        # a holder was added meanwhile (the foreign key refused the
        # delete): the trust is needed again
        return None
