"""The tables of the service database (SQLAlchemy 2 declarative models).

The catalog tables (snapshots, backups, restores, jobs) hold one row per
resource of a project. Listings are ordered by ``(created_at, id)`` and
paged by the id of the last row seen; every index a listing uses starts
with the columns it filters on by equality and ends with ``created_at,
id``, so a page is a range read of one index whatever its position. The
trust references count who still needs a Keystone trust.

A change here needs a new migration in ``migrations/versions``
(``tests/unit/db/test_migrations.py`` fails until the two match).
"""

import datetime

from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

# MySQL's DATETIME drops the fraction of a second unless told to keep it;
# rows created within one second would then sort by id only.
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')

ID = sa.String(64)  # our ids (UUIDs, backup ids) and Keystone ids
SERVER_ID = sa.String(36)


class Base(orm.DeclarativeBase):
    """Base of the service database's models."""

    def to_dict(self):
        """The row as a dict of plain values, column name -> value."""
        return {column.key: getattr(self, column.key)
                for column in self.__table__.columns}


def _listing_indexes(table, *filtered):
    """Indexes of a catalog table: its project's rows in listing order,
    every project's, and one per column (or tuple of columns) of
    ``filtered`` listings filter on."""
    indexes = [sa.Index('%s_project_id_created_at_idx' % table,
                        'project_id', 'created_at', 'id'),
               sa.Index('%s_created_at_idx' % table, 'created_at', 'id')]
    for columns in filtered:
        columns = (columns,) if isinstance(columns, str) else columns
        indexes.append(sa.Index(
            '%s_%s_created_at_idx' % (table, '_'.join(columns)),
            *columns, 'created_at', 'id'))
    return tuple(indexes)


class _CatalogEntry:
    """Columns of every catalog row."""

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime, default=timeutils.utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(
        DateTime, onupdate=timeutils.utcnow)
    error: Mapped[str | None] = mapped_column(sa.Text)


class _Resource(_CatalogEntry):
    """A snapshot, backup or restore: a status and the job that made (or
    last changed) it."""

    STATUS_COLUMN = 'status'
    status: Mapped[str] = mapped_column(sa.String(16))
    job_id: Mapped[str | None] = mapped_column(sa.String(36))


class Snapshot(_Resource, Base):
    """A snapshot set of a server: its root image and volume snapshots."""

    __tablename__ = 'snapshots'
    __table_args__ = _listing_indexes(
        'snapshots', ('project_id', 'status'), 'server_id') + (
        sa.Index('snapshots_expires_at_idx', 'expires_at'),)
    KIND = 'Snapshot'
    STATUSES = ('creating', 'available', 'error', 'deleting')
    INITIAL_STATUS = 'creating'

    server_id: Mapped[str] = mapped_column(SERVER_ID)
    name: Mapped[str | None] = mapped_column(sa.String(255))
    quiesce: Mapped[str | None] = mapped_column(sa.String(32))
    consistency: Mapped[str | None] = mapped_column(sa.String(32))
    expires_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Backup(_Resource, Base):
    """A backup of a server in a backup repository; its id is the
    repository's backup id (the manifest stays the truth)."""

    __tablename__ = 'backups'
    __table_args__ = _listing_indexes(
        'backups', ('project_id', 'status'), 'server_id')
    KIND = 'Backup'
    STATUSES = ('creating', 'available', 'error', 'deleting')
    INITIAL_STATUS = 'creating'

    server_id: Mapped[str] = mapped_column(SERVER_ID)
    repository_url: Mapped[str] = mapped_column(sa.String(1024))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    consistency: Mapped[str | None] = mapped_column(sa.String(32))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    disk_count: Mapped[int | None] = mapped_column(sa.Integer)
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)


class Restore(_Resource, Base):
    """A restore of a backup onto a new server."""

    __tablename__ = 'restores'
    __table_args__ = _listing_indexes(
        'restores', ('project_id', 'status'), 'backup_id')
    KIND = 'Restore'
    STATUSES = ('restoring', 'available', 'error')
    INITIAL_STATUS = 'restoring'

    backup_id: Mapped[str] = mapped_column(ID)
    # the restored server, once the restore has created it
    server_id: Mapped[str | None] = mapped_column(SERVER_ID)
    name: Mapped[str | None] = mapped_column(sa.String(255))


class Job(_CatalogEntry, Base):
    """A flow run; its id is the TaskFlow job id. ``state`` is the
    job's TaskFlow state, whatever the job layer records."""

    __tablename__ = 'jobs'
    __table_args__ = _listing_indexes(
        'jobs', ('project_id', 'state')) + (
        sa.Index('jobs_resource_type_resource_id_idx',
                 'resource_type', 'resource_id'),
        sa.Index('jobs_trust_ref_id_idx', 'trust_ref_id'))
    KIND = 'Job'
    STATUS_COLUMN = 'state'
    STATUSES = None
    INITIAL_STATUS = None

    flow: Mapped[str] = mapped_column(sa.String(64))
    resource_type: Mapped[str | None] = mapped_column(sa.String(16))
    resource_id: Mapped[str | None] = mapped_column(ID)
    state: Mapped[str] = mapped_column(sa.String(32))
    trust_ref_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey('trust_references.id',
                                     name='jobs_trust_ref_id_fkey',
                                     ondelete='SET NULL'))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0,
                                          server_default='0')


class TrustReference(Base):
    """The Keystone trust of one user in one project, delegating the
    user's roles to the service user; shared by all its holders."""

    __tablename__ = 'trust_references'
    __table_args__ = (
        sa.UniqueConstraint('user_id', 'project_id',
                            name='uniq_trust_references0user_id0project_id'),
        sa.UniqueConstraint('trust_id',
                            name='uniq_trust_references0trust_id'),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    trust_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    project_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime, default=timeutils.utcnow)


class TrustReferenceHolder(Base):
    """Who needs a trust: one row per job or policy (``holder_type``,
    ``holder_id``). Adding or removing a holder twice changes nothing, so
    a task re-run after a crash cannot skew the count."""

    __tablename__ = 'trust_reference_holders'

    trust_ref_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey(
            'trust_references.id',
            name='trust_reference_holders_trust_ref_id_fkey'),
        primary_key=True)
    holder_type: Mapped[str] = mapped_column(sa.String(16),
                                             primary_key=True)
    holder_id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime, default=timeutils.utcnow)
