"""The SQL of jobs kept beside TaskFlow's tables: claims (see
:mod:`backup_flows.engine.persistence`), the one-query job listing and the
purge. Imported on first use (SQLAlchemy is slow to import)."""

import datetime
import json

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

_metadata = sa.MetaData()
CLAIMS = sa.Table(
    'backup_flows_job_claims', _metadata,
    sa.Column('job_id', sa.String(64), primary_key=True),
    sa.Column('host', sa.String(255), nullable=False),
    sa.Column('pid', sa.Integer, nullable=False),
    # process start time in clock ticks: tells a reused pid apart
    sa.Column('started', sa.BigInteger),
    sa.Column('generation', sa.Integer, nullable=False),
    sa.Column('heartbeat_at', sa.DateTime, nullable=False))
# The columns of TaskFlow's own table that listing jobs needs: read with one
# query instead of loading every logbook with its atoms and their results.
_FLOWDETAILS = sa.Table(
    'flowdetails', sa.MetaData(),
    sa.Column('uuid', sa.String(64), primary_key=True),
    sa.Column('name', sa.String(255)),
    sa.Column('state', sa.String(255)),
    sa.Column('parent_uuid', sa.String(64)),
    sa.Column('meta', sa.Text))
_ATOMDETAILS = sa.Table('atomdetails', _FLOWDETAILS.metadata,
                        sa.Column('uuid', sa.String(64), primary_key=True),
                        sa.Column('parent_uuid', sa.String(64)))
_LOGBOOKS = sa.Table('logbooks', _FLOWDETAILS.metadata,
                     sa.Column('uuid', sa.String(64), primary_key=True))


def create_tables(backend):
    """Create the claims table if it is not there (TaskFlow's own tables
    are made by its migrations)."""
    _metadata.create_all(backend.engine)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def read_claim(backend, job_id):
    """The claim row of a job as a dict, or None."""
    with backend.engine.connect() as conn:
        row = conn.execute(sa.select(CLAIMS).where(
            CLAIMS.c.job_id == job_id)).mappings().first()
    return dict(row) if row else None


def read_claims(backend):
    """{job id: claim row} of every claimed job."""
    with backend.engine.connect() as conn:
        return {row['job_id']: dict(row) for row in
                conn.execute(sa.select(CLAIMS)).mappings()}


def claim(backend, job_id, owner, taken_over=None):
    """Claim ``job_id`` for ``owner`` ({host, pid, started}); True if won.

    ``taken_over`` is the claim row read before (its owner found gone), or
    None for a job without one: the row is then replaced only if nobody
    changed it in between, or inserted only if nobody inserted one.
    """
    values = {'host': owner['host'], 'pid': owner['pid'],
              'started': owner.get('started'), 'heartbeat_at': utcnow()}
    try:
        with backend.engine.begin() as conn:
            if taken_over is None:
                conn.execute(sa.insert(CLAIMS).values(
                    job_id=job_id, generation=1, **values))
                return True
            generation = taken_over['generation']
            done = conn.execute(sa.update(CLAIMS).where(
                CLAIMS.c.job_id == job_id,
                CLAIMS.c.generation == generation).values(
                    generation=generation + 1, **values))
            return done.rowcount == 1
    except sa_exc.IntegrityError:
        return False


def _owned_by(owner):
    return sa.and_(CLAIMS.c.host == owner['host'],
                   CLAIMS.c.pid == owner['pid'])


def beat(backend, job_id, owner):
    """Refresh the owner's heartbeat; False if the claim is no longer its."""
    with backend.engine.begin() as conn:
        done = conn.execute(sa.update(CLAIMS).where(
            CLAIMS.c.job_id == job_id, _owned_by(owner)).values(
                heartbeat_at=utcnow()))
        return done.rowcount == 1


def release(backend, job_id, owner):
    """Drop the owner's claim of a job (it stopped running it)."""
    with backend.engine.begin() as conn:
        conn.execute(sa.delete(CLAIMS).where(CLAIMS.c.job_id == job_id,
                                             _owned_by(owner)))


def claim_age(row):
    """Seconds since the claim's last heartbeat."""
    return (utcnow() - row['heartbeat_at']).total_seconds()


def list_flow_details(backend):
    """(uuid, name, state, meta) of every flow detail: one query, no atoms."""
    with backend.engine.connect() as conn:
        rows = conn.execute(sa.select(
            _FLOWDETAILS.c.uuid, _FLOWDETAILS.c.name, _FLOWDETAILS.c.state,
            _FLOWDETAILS.c.meta)).all()
    return [(uuid, name, state, json.loads(meta) if meta else {})
            for uuid, name, state, meta in rows]


def delete_jobs(backend, job_ids, batch=500):
    """Delete jobs (their logbook, flow detail, atoms and claim) in one
    transaction per ``batch`` jobs; a job's logbook and flow detail share
    its id."""
    job_ids = list(job_ids)
    for start in range(0, len(job_ids), batch):
        ids = job_ids[start:start + batch]
        with backend.engine.begin() as conn:
            conn.execute(sa.delete(_ATOMDETAILS).where(
                _ATOMDETAILS.c.parent_uuid.in_(ids)))
            conn.execute(sa.delete(_FLOWDETAILS).where(
                _FLOWDETAILS.c.parent_uuid.in_(ids)))
            conn.execute(sa.delete(_LOGBOOKS).where(
                _LOGBOOKS.c.uuid.in_(ids)))
            conn.execute(sa.delete(CLAIMS).where(CLAIMS.c.job_id.in_(ids)))
