"""Initial schema: the catalog (snapshots, backups, restores, jobs) and
the trust references.

Revision ID: 7c1f0a5e2b3d
Revises:
Create Date: 2026-12-02 01:32:57
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = '7c1f0a5e2b3d'
down_revision = None
branch_labels = None
depends_on = None

# Written out here rather than taken from models.py: a migration is the
# schema as it was at its revision, whatever the models become.
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')


def _entry_columns():
    """The columns every catalog table starts with."""
    return [sa.Column('id', sa.String(64), nullable=False),
            sa.Column('project_id', sa.String(64), nullable=False),
            sa.Column('user_id', sa.String(64), nullable=False)]


def _resource_columns():
    """A resource's status and job, after its entry columns."""
    return _entry_columns() + [
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('job_id', sa.String(36), nullable=True)]


def _end_columns():
    """Times and error, last in every catalog table."""
    return [sa.Column('created_at', DATETIME, nullable=False),
            sa.Column('updated_at', DATETIME, nullable=True),
            sa.Column('error', sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint('id')]


def _listing_indexes(table, *filtered):
    """The indexes of a catalog table's listings (see models.py)."""
    op.create_index('%s_project_id_created_at_idx' % table, table,
                    ['project_id', 'created_at', 'id'])
    op.create_index('%s_created_at_idx' % table, table, ['created_at', 'id'])
    for columns in filtered:
        op.create_index('%s_%s_created_at_idx' % (table, '_'.join(columns)),
                        table, list(columns) + ['created_at', 'id'])


def _create_trust_references():
    op.create_table(
        'trust_references',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('trust_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('created_at', DATETIME, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'project_id',
                            name='uniq_trust_references0user_id0project_id'),
        sa.UniqueConstraint('trust_id',
                            name='uniq_trust_references0trust_id'))
    op.create_table(
        'trust_reference_holders',
        sa.Column('trust_ref_id', sa.String(36), nullable=False),
        sa.Column('holder_type', sa.String(16), nullable=False),
        sa.Column('holder_id', sa.String(64), nullable=False),
        sa.Column('created_at', DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ['trust_ref_id'], ['trust_references.id'],
            name='trust_reference_holders_trust_ref_id_fkey'),
        sa.PrimaryKeyConstraint('trust_ref_id', 'holder_type', 'holder_id'))


def _create_resources():
    op.create_table(
        'snapshots', *_resource_columns(),
        sa.Column('server_id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('quiesce', sa.String(32), nullable=True),
        sa.Column('consistency', sa.String(32), nullable=True),
        sa.Column('expires_at', DATETIME, nullable=True),
        *_end_columns())
    _listing_indexes('snapshots', ('project_id', 'status'), ('server_id',))
    op.create_index('snapshots_expires_at_idx', 'snapshots', ['expires_at'])

    op.create_table(
        'backups', *_resource_columns(),
        sa.Column('server_id', sa.String(36), nullable=False),
        sa.Column('repository_url', sa.String(1024), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('consistency', sa.String(32), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('disk_count', sa.Integer(), nullable=True),
        sa.Column('tags', sa.JSON(), nullable=False),
        *_end_columns())
    _listing_indexes('backups', ('project_id', 'status'), ('server_id',))

    op.create_table(
        'restores', *_resource_columns(),
        sa.Column('backup_id', sa.String(64), nullable=False),
        sa.Column('server_id', sa.String(36), nullable=True),
        sa.Column('name', sa.String(255), nullable=True),
        *_end_columns())
    _listing_indexes('restores', ('project_id', 'status'), ('backup_id',))


def _create_jobs():
    op.create_table(
        'jobs', *_entry_columns(),
        sa.Column('flow', sa.String(64), nullable=False),
        sa.Column('resource_type', sa.String(16), nullable=True),
        sa.Column('resource_id', sa.String(64), nullable=True),
        sa.Column('state', sa.String(32), nullable=False),
        sa.Column('trust_ref_id', sa.String(36), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0',
                  nullable=False),
        *_end_columns(),
        sa.ForeignKeyConstraint(['trust_ref_id'], ['trust_references.id'],
                                name='jobs_trust_ref_id_fkey',
                                ondelete='SET NULL'))
    _listing_indexes('jobs', ('project_id', 'state'))
    op.create_index('jobs_resource_type_resource_id_idx', 'jobs',
                    ['resource_type', 'resource_id'])
    op.create_index('jobs_trust_ref_id_idx', 'jobs', ['trust_ref_id'])


def upgrade():
    _create_trust_references()
    _create_resources()
    _create_jobs()
