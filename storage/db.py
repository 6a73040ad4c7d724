"""The async database: one engine, short transactions, no "database is locked".

SQLite is opened in WAL mode with a busy timeout, foreign keys on and every
transaction started with ``BEGIN IMMEDIATE``: a transaction takes the write
lock up front (waiting through ``busy_timeout``) instead of failing when a
deferred read transaction later tries to write (omnilib/aiosqlite#251).
PostgreSQL (``postgresql+asyncpg://``) needs none of this.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.expression import Executable
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.sqlite_inline import InlineSqlite, inline_path

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

log = logging.getLogger("streamops.db")

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option marking a connection that only reads (see :meth:`Database.read`).
READ_ONLY = "streamops_read_only"
#: Execution option marking a connection that runs one statement (see :meth:`Database.one`).
ONE_STATEMENT = "streamops_one_statement"


def is_sqlite(url: str) -> bool:
    """Tell whether a database URL names SQLite."""
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url`` with the pragmas StreamOps relies on.

    Args:
        url: an SQLAlchemy async URL (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).
        kwargs: passed on to :func:`create_async_engine`.
    """
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)

    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    # SQLite has one writer at a time. Several pooled connections racing for the
    # write lock fall into SQLite's busy handler, which sleeps 1-100 ms between
    # tries (ingest fell to ~100 transactions/s). One connection per process makes
    # transactions queue in the pool without sleeping; other processes still
    # wait through busy_timeout.
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_timeout", 120)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let us issue BEGIN ourselves (pysqlite would otherwise defer it).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(ONE_STATEMENT, False):
            return  # the statement is its own transaction (Database.one)
        # A connection marked read-only (Database.read) takes no write lock.
        begin = "BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE"
        # One call into aiosqlite's thread (its cursor made and dropped there); through
        # exec_driver_sql the BEGIN took three: cursor, execute, close.
        conn.connection.dbapi_connection.run_async(lambda driver: driver.execute_fetchall(begin))

    return engine


@dataclass(frozen=True)
class Write:
    """A statement and its parameters, to run inside someone else's transaction.

    Writes sharing a statement object are sent together as one executemany.
    """

    statement: Executable
    params: dict[str, Any]


class Database:
    """The engine plus a session factory; the one handle repositories receive."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        path = inline_path(url) if is_sqlite(url) else None
        self._inline = InlineSqlite(path) if path is not None else None
        self._checkpoint: asyncio.Task[None] | None = None

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def insert(self, table: type[SQLModel] | Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT into ``table`` that supports this dialect's ``ON CONFLICT`` clauses."""
        if self.dialect == "postgresql":
            # Imported here: SQLAlchemy's PostgreSQL dialect (with its four drivers' modules,
            # ~2.2 MB resident) is loaded by the engine of a PostgreSQL URL, never on SQLite.
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        return sqlite.insert(table)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only: on SQLite its transaction takes no write lock."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(**{READ_ONLY: True})

    @asynccontextmanager
    async def one(self) -> AsyncIterator[AsyncConnection]:
        """A connection for exactly one statement (one INSERT, one SELECT), committed.

        On SQLite the statement runs as its own transaction, without the
        ``BEGIN``/``BEGIN IMMEDIATE`` round trip through the driver's thread (and
        without a ``COMMIT`` after it): for
        the statements run on every request (the replay guard's claim, the role
        lookup). A second statement on this connection would not be atomic with
        the first: use :meth:`session` or :meth:`read` for more than one.
        """
        async with self.engine.connect() as conn:
            yield await conn.execution_options(**{ONE_STATEMENT: True})
            if self.dialect != "sqlite":
                await conn.commit()
            # On SQLite the statement committed itself (no BEGIN was sent: the driver is in
            # autocommit mode). Closing ends SQLAlchemy's transaction with one driver call, a
            # ROLLBACK that finds nothing to undo; COMMIT and then the pool's reset-on-return
            # ROLLBACK would be two, each a round trip through aiosqlite's thread.

    async def sqlite_fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """SQLite only: one statement, as its own transaction, without a thread round trip.

        For the statements run on every request (the replay guard's claim, the role
        lookup). ``sql`` has ``?`` placeholders and values already in their stored
        form. It runs at once on this thread's own connection
        (:class:`~storage.sqlite_inline.InlineSqlite`) when SQLite can answer without
        waiting; otherwise (the write lock is held) it goes to the driver in one call
        into aiosqlite's thread (``execute_fetchall`` on a pooled connection, which
        waits for the lock as every statement does). Through SQLAlchemy a statement
        costs four calls into that thread (cursor, execute, fetch, close). Errors come
        back as SQLAlchemy's, as from any other statement.
        """
        if self.dialect != "sqlite":
            raise RuntimeError("sqlite_fetch is for SQLite")
        if self._inline is not None:
            try:
                rows = self._inline.try_fetch(sql, params)
            except sqlite3.Error as exc:
                raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc
            if rows is not None:
                if self._inline.take_checkpoint_due() and self._checkpoint is None:
                    self._checkpoint = asyncio.get_running_loop().create_task(
                        self._checkpoint_wal()
                    )
                return rows
        return await self._pooled_fetch(sql, params)

    async def _pooled_fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            try:
                return list(await driver.execute_fetchall(sql, params))
            except sqlite3.Error as exc:
                raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc

    async def _checkpoint_wal(self) -> None:
        """Copy the WAL into the database file in aiosqlite's thread (see InlineSqlite)."""
        try:
            await self._pooled_fetch("PRAGMA wal_checkpoint(PASSIVE)", ())
        except DBAPIError:
            log.warning("a WAL checkpoint failed; SQLite retries at its next automatic one")
        finally:
            self._checkpoint = None

    async def ping(self) -> None:
        """Run a trivial query; raises if the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection (and the inline one)."""
        if self._checkpoint is not None:
            await self._checkpoint
        if self._inline is not None:
            self._inline.close()
        await self.engine.dispose()
