"""Outbox queries for a channel under a burst: its backlog, the rows of one subject behind a
head (to collapse into one edit), and the rows not yet shown in a digest.

Each is an indexed probe on a partial index of pending rows (``'pending'`` is written into
the SQL for SQLite's sake, as in ``storage.outbox_lease``), bounded by a ``LIMIT``, so none
grows with the whole backlog:

- the backlog count stops at ``limit`` rows (``ix_outbox_pending``: channel, id);
- a subject's rows: ``ix_outbox_pending_subject`` (channel, subject_key, id), migration 0020
  (the row comparison is an index condition only there, so PostgreSQL picks it without
  statistics);
- rows not yet in a digest: ``ix_outbox_pending`` from the channel's head on.
"""

from __future__ import annotations

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

#: The index of pending rows by channel and subject (migration 0020).
SUBJECT_INDEX = "ix_outbox_pending_subject"

_BACKLOG_SQL = """
SELECT count(*) FROM (
    SELECT o.id FROM outbox AS o{hint}
    WHERE o.status = 'pending' AND o.channel = :channel
    ORDER BY o.id LIMIT :limit
) AS backlog
"""

_SUBJECT_SQL = """
SELECT o.id FROM outbox AS o{hint}
WHERE o.status = 'pending' AND o.channel = :channel AND o.subject_key = :subject_key
  AND (o.channel, o.subject_key, o.id) > (:channel, :subject_key, :after)
ORDER BY o.channel, o.subject_key, o.id LIMIT :limit
"""

_UNDIGESTED_SQL = """
SELECT o.id FROM outbox AS o{hint}
WHERE o.status = 'pending' AND o.channel = :channel
  AND o.digest_ts IS NULL AND o.subject_key <> ''
ORDER BY o.id LIMIT :limit
"""


def _statement(sql: str, index: str, dialect: str) -> TextClause:
    hint = f" INDEXED BY {index}" if dialect == "sqlite" else ""
    return text(sql.format(hint=hint)).bindparams(bindparam("limit", type_=None))


_STATEMENTS = {
    (name, dialect): _statement(sql, index, dialect)
    for name, sql, index in (
        ("backlog", _BACKLOG_SQL, "ix_outbox_pending"),
        ("subject", _SUBJECT_SQL, SUBJECT_INDEX),
        ("undigested", _UNDIGESTED_SQL, "ix_outbox_pending"),
    )
    for dialect in ("sqlite", "postgresql")
}


def group_statement(name: str, dialect: str) -> TextClause:
    """The ``backlog``, ``subject`` or ``undigested`` query for ``dialect`` (plan tests)."""
    return _STATEMENTS[(name, dialect)]


async def _ids(session: AsyncSession | AsyncConnection, name: str, **params: object) -> list[int]:
    connection = session if isinstance(session, AsyncConnection) else await session.connection()
    statement = _STATEMENTS[(name, connection.dialect.name)]
    result = await connection.execute(statement, params)
    return [int(value) for (value,) in result.all()]


async def channel_backlog(session: AsyncSession, channel: str, limit: int) -> int:
    """Pending rows of ``channel``, counted up to ``limit``."""
    connection = await session.connection()
    statement = _STATEMENTS[("backlog", connection.dialect.name)]
    result = await connection.execute(statement, {"channel": channel, "limit": limit})
    return int(result.scalar_one())


async def subject_rows(
    session: AsyncSession, channel: str, subject_key: str, after: int, limit: int
) -> list[int]:
    """Ids of pending rows of ``subject_key`` in ``channel`` after row ``after``, oldest first."""
    return await _ids(
        session, "subject", channel=channel, subject_key=subject_key, after=after, limit=limit
    )


async def undigested_rows(conn: AsyncConnection, channel: str, limit: int) -> list[int]:
    """Ids of pending subject rows of ``channel`` not yet shown in a digest, oldest first."""
    return await _ids(conn, "undigested", channel=channel, limit=limit)
