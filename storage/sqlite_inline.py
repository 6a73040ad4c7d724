"""Single SQLite statements run on the event loop's own thread when SQLite answers at once.

aiosqlite runs every statement in its worker thread: each is a hand-over to that
thread and a wake-up of the loop when it is done. With the server on one busy core
that costs more than the statement: the replay guard's claim (one INSERT per slash
command) took ~0.5 ms of CPU per command through the thread and ~0.03 ms here
(``bench/ab_cpu.py``, BENCHMARKS.md §8). :class:`InlineSqlite` is a second
connection to the same file, used only by the thread that opened it, for one
statement at a time that never waits:

- its busy timeout is 0: when another connection holds the write lock (the pooled
  one inside a transaction, another process), SQLite answers ``SQLITE_BUSY`` at
  once and :meth:`try_fetch` returns None, so the caller sends the statement through
  the pooled connection, which waits as usual;
- every statement is its own transaction (autocommit), as on the pooled path;
- it never checkpoints the WAL itself (a checkpoint writes and syncs the database
  file, which must not happen on the loop's thread): :meth:`take_checkpoint_due` tells
  the caller to run one on the pooled connection, in aiosqlite's thread.

Only plain database files qualify: an in-memory database is private to its
connection, so a second connection would see another database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import make_url

#: SQLite's primary result codes for "try again later".
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
#: Rows changed here between two checkpoints asked of the pooled connection (SQLite's
#: own automatic checkpoint runs at 1,000 WAL pages).
CHECKPOINT_EVERY_CHANGES = 1000


def inline_path(url: str) -> str | None:
    """The database file of a SQLite ``url``, or None when it is not a plain file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query:
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class InlineSqlite:
    """A connection to the SQLite file at ``path`` for the thread that first uses it."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._owner: int | None = None
        self._closed = False
        self._changes_at_checkpoint = 0

    def try_fetch(self, sql: str, params: Sequence[Any]) -> list[Any] | None:
        """Run ``sql`` now and return its rows; None when SQLite is busy or this is not
        the owning thread (nothing was run: send it through the pooled connection).

        Raises:
            sqlite3.Error: any other refusal (a constraint, a syntax error).
        """
        conn = self._connection()
        if conn is None:
            return None
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in _BUSY_CODES:
                return None
            raise

    def take_checkpoint_due(self) -> bool:
        """True when enough rows changed here since it last said True (then counts anew)."""
        if self._conn is None:
            return False
        changes = self._conn.total_changes
        if changes - self._changes_at_checkpoint < CHECKPOINT_EVERY_CHANGES:
            return False
        self._changes_at_checkpoint = changes
        return True

    def close(self) -> None:
        """Close the connection (only from its own thread); later calls return None."""
        self._closed = True
        if self._conn is not None and threading.get_ident() == self._owner:
            self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection | None:
        if self._closed:
            return None
        if self._conn is not None:
            return self._conn if threading.get_ident() == self._owner else None
        try:
            conn = sqlite3.connect(self._path, timeout=0, isolation_level=None)
        except sqlite3.Error:
            self._closed = True  # not usable here: every statement takes the pooled path
            return None
        try:
            # Only once the pooled connection has put the file in WAL mode (it does on
            # its first connect): a rollback journal would make readers block the writer.
            if conn.execute("PRAGMA journal_mode").fetchone() != ("wal",):
                conn.close()
                return None
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")  # as the pooled connection (WAL)
            conn.execute("PRAGMA wal_autocheckpoint=0")
        except sqlite3.Error:
            conn.close()  # busy opening the WAL: the next statement tries again
            return None
        self._conn, self._owner = conn, threading.get_ident()
        return conn
