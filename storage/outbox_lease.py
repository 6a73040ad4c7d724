"""The outbox lease query: the oldest deliverable *channel head*, found in O(C · log n).

A row is deliverable when it is pending, due, not leased (or its lease ran out),
and it is the oldest pending row of its channel (its *head*): a channel's
notifications go out in order. Rows behind a head are never deliverable, so the
lease looks only at heads:

1. the channels with pending rows, one index probe each (a "loose index scan":
   a recursive CTE that asks for the next channel after the previous one);
2. each channel's head, one index probe each;
3. of those heads, the due and free ones (one primary-key probe each), oldest first.

Each step is a scalar subquery on purpose: a join would let PostgreSQL's planner
pick a hash join over a sequential scan of the whole outbox (it did, without
statistics); a scalar subquery is always run as a probe per outer row.

Every probe is an ``ORDER BY … LIMIT 1`` on the partial index
``ix_outbox_pending (channel, id) WHERE status = 'pending'`` (migration 0010),
so the cost grows with the number of channels that have pending rows (C) and
only logarithmically with the backlog (n): 100 or 100,000 pending rows cost the
same. The plan does not depend on table statistics (each step is an indexed
``LIMIT 1``; PostgreSQL picks it without ``ANALYZE``), and
``tests/storage/test_outbox_lease_plan.py`` checks it with ``EXPLAIN`` on SQLite
and PostgreSQL.

The literal ``'pending'`` is written into the SQL, not bound: SQLite uses a
partial index only when the query's WHERE visibly implies the index's.

The previous query scanned pending rows in id order and tested "no older pending
row in this channel" for each; behind a leased or paced head it walked the whole
backlog (30 ms at 49,500 rows on SQLite; on PostgreSQL without statistics,
489 ms at 1,676 rows).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import TextClause, bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.timeutil import UTCDateTime

#: The name and predicate of the index the lease relies on (migration 0010).
INDEX_NAME = "ix_outbox_pending"
INDEX_PREDICATE = "status = 'pending'"

#: Heads returned per lease call: a few, so that PostgreSQL workers that find the
#: first one locked (``SKIP LOCKED``) can take the next without asking again.
CANDIDATES = 8

HEADS_SQL = """
WITH RECURSIVE channels(channel) AS (
    SELECT (SELECT o.channel FROM outbox AS o{hint}
            WHERE o.status = 'pending' ORDER BY o.channel LIMIT 1)
    UNION ALL
    SELECT (SELECT o.channel FROM outbox AS o{hint}
            WHERE o.status = 'pending' AND o.channel > channels.channel
            ORDER BY o.channel LIMIT 1)
    FROM channels WHERE channels.channel IS NOT NULL
),
heads(id) AS MATERIALIZED (
    SELECT (SELECT o.id FROM outbox AS o{hint}
            WHERE o.status = 'pending' AND o.channel = channels.channel
            ORDER BY o.id LIMIT 1)
    FROM channels WHERE channels.channel IS NOT NULL
)
SELECT heads.id FROM heads
WHERE (SELECT r.next_attempt_at <= :now AND (r.lease_until IS NULL OR r.lease_until < :now)
       FROM outbox AS r WHERE r.id = heads.id)
ORDER BY heads.id
LIMIT :limit
"""


def heads_statement(dialect: str) -> TextClause:
    """The heads query for ``dialect``; SQLite is told to use the pending index.

    Without statistics SQLite's planner would otherwise take any index that
    starts with ``status`` (e.g. retention's ``(status, finished_at)``) and sort
    every pending row; ``INDEXED BY`` makes it use ours or fail loudly.
    """
    hint = f" INDEXED BY {INDEX_NAME}" if dialect == "sqlite" else ""
    return text(HEADS_SQL.format(hint=hint)).bindparams(
        bindparam("now", type_=UTCDateTime()), bindparam("limit", type_=None)
    )


_STATEMENTS = {dialect: heads_statement(dialect) for dialect in ("sqlite", "postgresql")}

#: SQLite: the same query with ``?`` placeholders (now, now, limit), for
#: ``Database.sqlite_fetch``: the idle poll's "anything deliverable?" costs one statement
#: on the event loop's own connection instead of a session through aiosqlite's thread.
SQLITE_HEADS_SQL = (
    HEADS_SQL.format(hint=f" INDEXED BY {INDEX_NAME}").replace(":now", "?").replace(":limit", "?")
)


async def deliverable_heads(
    session: AsyncSession, now: datetime, limit: int = CANDIDATES
) -> list[int]:
    """Ids of up to ``limit`` deliverable channel heads, oldest first."""
    connection = await session.connection()
    statement = _STATEMENTS[connection.dialect.name]
    result = await connection.execute(statement, {"now": now, "limit": limit})
    return [int(row_id) for (row_id,) in result.all()]
