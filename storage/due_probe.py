"""A poll's "is any row due?" on SQLite: one statement on the event loop's own connection.

The queue, schedule and pending-delete runners look for due rows every few seconds
and almost always find none. Through a session that look is a transaction and four
calls into aiosqlite's thread, each a hand-over to it and a wake-up of the loop. On
SQLite a :class:`DueProbe` asks first, as the outbox's idle poll does
(``storage.outbox``): one statement through :meth:`storage.db.Database.sqlite_fetch`,
answered on the loop's thread when SQLite can answer at once. Only when a row may be
due does the store open its session, whose query (and claim) decides as before: the
probe can only skip a look that would have found nothing, since each of its
statements reads the last committed state, as the session's first read would.
On PostgreSQL there is no probe; the session's query is the look.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, Table, bindparam, literal_column, select

from storage.db import Database
from storage.timeutil import stored_time


class DueProbe:
    """Whether ``table`` has a row in ``state`` whose ``time_column`` is ``op`` a time.

    Args:
        db: the database.
        table: the table (its columns are checked when the probe is built).
        state: the name of the state column, and the state looked for.
        time_column: the name of the time column compared.
        op: ``<=`` (due at or before the time) or ``<`` (strictly before).
    """

    def __init__(
        self,
        db: Database,
        table: Table,
        state: tuple[str, str],
        time_column: str,
        op: Literal["<=", "<"] = "<=",
    ) -> None:
        state_column, state_value = state
        status, stamp = table.c[state_column], table.c[time_column]  # KeyError if absent
        self._db = db
        self._sql: str | None = None
        if db.dialect != "sqlite":
            return
        self._stored: Callable[[datetime], Any] = stored_time(db.engine.dialect)
        query: Select[Any] = (
            select(literal_column("1"))
            .select_from(table)
            .where(
                status == bindparam("state"),
                stamp <= bindparam("moment") if op == "<=" else stamp < bindparam("moment"),
            )
            .limit(1)
        )
        compiled = query.compile(dialect=db.engine.dialect)
        values = compiled.construct_params({"state": state_value, "moment": None})
        order = compiled.positiontup or ()
        self._sql = str(compiled)
        self._args = [values[name] for name in order]  # the time goes in at _moment_at
        self._moment_at = order.index("moment")

    async def none_due(self, moment: datetime) -> bool:
        """True when SQLite has no such row at ``moment`` (skip the session's look); False
        when one may be there, and always on PostgreSQL (the caller's query decides)."""
        if self._sql is None:
            return False
        args = list(self._args)
        args[self._moment_at] = self._stored(moment)
        return not await self._db.sqlite_fetch(self._sql, args)
