"""StreamAPI request ids kept in the database: increasing across restarts and replicas.

One row per API key, keyed by the key's SHA-256 (never the key itself), holds the
last id handed out. :meth:`DatabaseRidSource.next_rid` advances it with a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so the read and the write
cannot be split: PostgreSQL locks the row for the upsert and SQLite takes the
write lock up front (``BEGIN IMMEDIATE``), so concurrent callers, in one process
or in several, never receive equal ids.

Distinct ids are not enough: StreamAPI refuses an id that *arrives* after a larger
one (code 203), so the requests must also reach it in id order. :meth:`DatabaseRidSource.turn`
gives a caller the key's turn: on PostgreSQL a transaction-scoped advisory lock keyed
by the API key, held while the caller signs and sends its request, so replicas send
one at a time per key. On SQLite (one process only, see the README) the turn is the
caller's own in-process lock and this source only hands out the id.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from sqlalchemy import BigInteger, Column, String, Table, case, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from storage.db import Database

Clock = Callable[[], float]

log = logging.getLogger(__name__)

#: First key of the two-key advisory lock that serialises StreamAPI sends ("SRID");
#: the second is 32 bits of the API key's digest. (PostgreSQL keeps the two-key and
#: one-key lock spaces apart, so this cannot meet the audit or migration locks.)
RID_LOCK_NAMESPACE = int.from_bytes(b"SRID", "big", signed=True)
#: SQLSTATE of ``lock_not_available``: the advisory lock's ``lock_timeout`` ran out.
_LOCK_NOT_AVAILABLE = "55P03"


def key_digest(api_key: str) -> str:
    """SHA-256 hex of an API key: how rid marks are keyed without storing the key."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def lock_key(api_key: str) -> int:
    """The second advisory-lock key of ``api_key``: 32 signed bits of its digest."""
    return int.from_bytes(bytes.fromhex(key_digest(api_key))[:4], "big", signed=True)


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
        wait: PostgreSQL: how long :meth:`turn` waits for the key's turn before it
            gives up with ``TimeoutError`` (nothing was sent).
        hold: PostgreSQL: the longest a turn may be held. The server ends the holder's
            session after this long idle in its transaction, which frees the lock if
            the holding process hangs or dies half-way (the caller bounds its own send
            well below it).
    """

    def __init__(
        self, db: Database, clock: Clock = time.time, *, wait: float = 60.0, hold: float = 60.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._wait_ms = max(1, int(wait * 1000))
        self._hold_ms = max(1, int(hold * 1000))

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

    @contextlib.asynccontextmanager
    async def turn(self, api_key: str) -> AsyncIterator[int]:
        """Hold ``api_key``'s turn to send and yield a fresh id for the one request sent in it.

        PostgreSQL: ``pg_advisory_xact_lock`` on a connection of its own, in a
        transaction that writes nothing and is rolled back at the end (which frees the
        lock); the id is taken and committed on another connection meanwhile, so the
        mark is durable before the request leaves. A caller holds one turn at a time,
        so a replica uses at most one extra connection per key while sending.
        SQLite: just the id (one process; the caller's own lock orders its sends).

        Raises:
            TimeoutError: the turn was not granted within ``wait`` (nothing was sent).
        """
        if self._db.dialect != "postgresql":
            yield await self.next_rid(api_key)
            return
        async with self._db.engine.connect() as conn:
            await conn.begin()
            try:
                await self._lock(conn, api_key)
                yield await self.next_rid(api_key)
            finally:
                # Nothing was written here: rolling back only ends the turn. If the
                # server already ended the session (held past ``hold``), the lock is
                # gone with it and the request's own outcome still stands.
                try:
                    await conn.rollback()
                except (SQLAlchemyError, OSError):
                    log.warning("StreamAPI send turn ended by the database (held too long)")

    async def _lock(self, conn: AsyncConnection, api_key: str) -> None:
        # SET LOCAL takes no bind parameters; both values are integers computed here.
        await conn.execute(text(f"SET LOCAL lock_timeout = {self._wait_ms}"))
        await conn.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {self._hold_ms}"))
        try:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:space, :key)"),
                {"space": RID_LOCK_NAMESPACE, "key": lock_key(api_key)},
            )
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                raise TimeoutError(
                    "another replica has held the StreamAPI send turn too long"
                ) from None
            raise

    async def last_rid(self, api_key: str) -> int | None:
        """The mark stored for ``api_key``, or None before its first id."""
        table = _table()
        query = table.select().where(table.c.key_sha256 == key_digest(api_key))
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else int(row.last_rid)
