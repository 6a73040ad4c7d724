"""StreamAPI request ids kept in the database: increasing across restarts and replicas.

One row per API key, keyed by the key's SHA-256 (never the key itself), holds the
last id handed out. :meth:`DatabaseRidSource.next_rid` advances it with a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so the read and the write
cannot be split: PostgreSQL locks the row for the upsert and SQLite takes the
write lock up front (``BEGIN IMMEDIATE``), so concurrent callers, in one process
or in several, never receive equal ids.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from sqlalchemy import BigInteger, Column, String, Table, case
from sqlmodel import Field, SQLModel

from storage.db import Database

Clock = Callable[[], float]


def key_digest(api_key: str) -> str:
    """SHA-256 hex of an API key: how rid marks are keyed without storing the key."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def now_ms(clock: Clock) -> int:
    """The clock's current time in whole milliseconds."""
    return int(clock() * 1000)


class StreamapiRid(SQLModel, table=True):
    """The last request id handed out for one StreamAPI key."""

    __tablename__ = "streamapi_rid"

    key_sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    last_rid: int = Field(sa_column=Column(BigInteger, nullable=False))


def _table() -> Table:
    return SQLModel.metadata.tables[StreamapiRid.__tablename__]


class DatabaseRidSource:
    """Request ids ``max(now_ms, last + 1)``, the mark stored in the database.

    Args:
        db: the application database (migration ``0005`` applied).
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    def __repr__(self) -> str:
        return f"DatabaseRidSource(dialect={self._db.dialect!r})"

    async def next_rid(self, api_key: str) -> int:
        """Advance and return the mark for ``api_key`` in one atomic statement."""
        table = _table()
        stmt = self._db.insert(table).values(
            key_sha256=key_digest(api_key), last_rid=now_ms(self._clock)
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[table.c.key_sha256],
            set_={
                "last_rid": case(
                    (stmt.excluded.last_rid > table.c.last_rid, stmt.excluded.last_rid),
                    else_=table.c.last_rid + 1,
                )
            },
        ).returning(table.c.last_rid)
        async with self._db.engine.begin() as conn:
            return int((await conn.execute(upsert)).scalar_one())

    async def last_rid(self, api_key: str) -> int | None:
        """The mark stored for ``api_key``, or None before its first id."""
        table = _table()
        query = table.select().where(table.c.key_sha256 == key_digest(api_key))
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else int(row.last_rid)
