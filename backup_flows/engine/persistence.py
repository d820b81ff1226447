"""The flow persistence backend (TaskFlow's SQLAlchemy backend), opened
once per process and URL, and the job claims kept beside TaskFlow's tables.

A *claim* says which process runs a job: one row per job holding the
owner (host, pid, process start) and a heartbeat it refreshes while it runs.
Taking a job over is a compare-and-swap on the row's ``generation``, so of
two processes resuming the same interrupted job exactly one wins, whatever
the database (SQLite or PostgreSQL/MySQL shared by several hosts).
"""

import contextlib
import datetime
import json
import os
import threading

from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from taskflow.persistence import backends as tf_backends

from backup_flows import conf as bf_conf

LOG = logging.getLogger(__name__)
CONF = bf_conf.CONF

_backends = {}
_backends_lock = threading.Lock()

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


def persistence_url(conf=CONF):
    """Return the SQLAlchemy URL of the flow persistence database."""
    if conf.engine.persistence_connection:
        return conf.engine.persistence_connection
    return 'sqlite:///' + os.path.join(conf.state_path, 'flows.sqlite')


def get_backend(conf=CONF):
    """Return the persistence backend, creating its schema on first use."""
    url = persistence_url(conf)
    with _backends_lock:
        backend = _backends.get(url)
        if backend is None:
            if url.startswith('sqlite:///'):
                os.makedirs(os.path.dirname(url[len('sqlite:///'):]) or '.',
                            mode=0o700, exist_ok=True)
            backend = tf_backends.fetch({'connection': url})
            with contextlib.closing(backend.get_connection()) as conn:
                conn.upgrade()
            _metadata.create_all(backend.engine)
            _backends[url] = backend
        return backend


def open_backend_in_background(conf=CONF):
    """Start opening the persistence backend in a daemon thread.

    An operation calls this before it plans: importing SQLAlchemy and
    checking the schema then overlap the cloud requests of planning. The
    flow's own :func:`get_backend` waits for it (same lock) or, if it
    failed, opens it again and raises the error.
    """
    def open_quietly():
        try:
            get_backend(conf)
        except Exception:
            LOG.debug('Opening the persistence backend in the background '
                      'failed; it is opened again when used', exc_info=True)

    threading.Thread(target=open_quietly, name='open-persistence',
                     daemon=True).start()


def _utcnow():
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
              'started': owner.get('started'), 'heartbeat_at': _utcnow()}
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
                heartbeat_at=_utcnow()))
        return done.rowcount == 1


def release(backend, job_id, owner):
    """Drop the owner's claim of a job (it stopped running it)."""
    with backend.engine.begin() as conn:
        conn.execute(sa.delete(CLAIMS).where(CLAIMS.c.job_id == job_id,
                                             _owned_by(owner)))


def claim_age(row):
    """Seconds since the claim's last heartbeat."""
    return (_utcnow() - row['heartbeat_at']).total_seconds()


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
