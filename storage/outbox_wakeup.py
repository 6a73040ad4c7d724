"""Wake the delivery workers when outbox rows are committed, instead of letting them poll.

Every write of an outbox row — webhook intake, live sessions, jobs — goes
through the database's engine, so the wake-up hangs off the engine, not off
each writer:

- **in process**: an engine event marks a connection that inserted into
  ``outbox``; once that connection's transaction has committed (the connection
  goes back to the pool or begins its next transaction — SQLAlchemy's ``commit``
  event runs *before* the driver commits, so waking there let a worker's lease
  on another connection run before the row was visible), a worker of this
  process waiting in :meth:`OutboxWakeup.wait` wakes (see below);
- **across replicas** (PostgreSQL): migration 0010c adds a statement-level
  trigger that runs ``pg_notify('streamops_outbox', '')`` on every insert into
  the outbox, delivered by PostgreSQL when the inserting transaction commits;
  :meth:`OutboxWakeup.listen` holds one ``LISTEN`` connection per process and
  wakes the local workers on each notification.

A notification wakes *one* waiting worker; one that finds nothing waiting is
kept (:meth:`OutboxWakeup.wait` then returns at once), so a commit landing while
every worker is mid-lease or mid-delivery is not lost. (It was: a ``NOTIFY``
arriving while all workers were leasing woke nobody, and the row waited for the
poll — PostgreSQL max 518 ms at 1 webhook/s.) A worker whose lease found a row
passes the wake-up on (:meth:`OutboxWakeup.pass_on`): more rows may be due, for
other channels. Waking one at a time instead of all keeps a burst of commits from
sending every worker to lease for the same head.

The workers keep their poll interval as a fallback (a retry that comes due, a
lost listener connection), so a missed wake-up costs at most one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert

from storage.db import Database

log = logging.getLogger("streamops.outbox")

CHANNEL = "streamops_outbox"
_DIRTY = "streamops_outbox_inserted"
_COMMITTED = "streamops_outbox_committed"


class OutboxWakeup:
    """A wake-up signal shared by the delivery workers of one process and one database."""

    def __init__(self) -> None:
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kept = False
        self.notified = 0

    def notify(self) -> None:
        """Wake one waiting worker, or the next one to wait (safe from any thread)."""
        self.notified += 1
        self._wake_one()

    def pass_on(self) -> None:
        """Wake one more worker: this one found a row, and more may be due."""
        self._wake_one()

    def _wake_one(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # no worker has started: its first lease sees every committed row
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake()
        else:
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._kept = True  # nobody waits: the next wait returns at once

    async def wait(self, at_most: float) -> bool:
        """Wait until notified or ``at_most`` seconds pass; True when notified.

        Returns True at once when a notification came while nobody waited.
        """
        loop = asyncio.get_running_loop()
        self._loop = loop
        if self._kept:
            self._kept = False
            return True
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(at_most, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        return not getattr(waiter, "_expired", False)

    def bind(self) -> None:
        """Remember the running loop (so notifications before the first wait are not lost)."""
        self._loop = asyncio.get_running_loop()

    async def listen(self, db: Database, *, retry_after: float = 5.0) -> None:
        """Forward PostgreSQL ``NOTIFY streamops_outbox`` to :meth:`notify`, until cancelled.

        Does nothing on other databases. A lost connection is re-opened after
        ``retry_after`` seconds (the workers' poll covers the gap).
        """
        if db.dialect != "postgresql":
            return
        self.bind()
        while True:
            try:
                async with db.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection
                    closed = asyncio.Event()
                    driver.add_termination_listener(lambda *_, done=closed: done.set())
                    await driver.add_listener(CHANNEL, self._on_notify)
                    try:
                        await closed.wait()
                    finally:
                        with contextlib.suppress(Exception):
                            await driver.remove_listener(CHANNEL, self._on_notify)
            except asyncio.CancelledError:
                raise
            except Exception:  # the poll interval covers the gap
                log.warning("outbox LISTEN connection lost; retrying", exc_info=True)
            await asyncio.sleep(retry_after)

    def _on_notify(self, *_: object) -> None:
        self.notify()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter._expired = True  # type: ignore[attr-defined]  # read back in wait()
        waiter.set_result(None)


def for_database(db: Database) -> OutboxWakeup:
    """The wake-up of ``db``'s workers in this process, created (and hooked) on first use."""
    existing: OutboxWakeup | None = getattr(db, "_outbox_wakeup", None)
    if existing is not None:
        return existing
    wakeup = OutboxWakeup()
    engine = db.engine.sync_engine

    def after_execute(conn: Connection, clause: Any, *_: Any) -> None:
        if isinstance(clause, Insert) and getattr(clause.table, "name", None) == "outbox":
            conn.info[_DIRTY] = True

    def on_commit(conn: Connection) -> None:
        # Runs before the driver's COMMIT: only note it; the wake-up follows the commit.
        if conn.info.pop(_DIRTY, False):
            conn.info[_COMMITTED] = True

    def on_rollback(conn: Connection) -> None:
        conn.info.pop(_DIRTY, None)
        conn.info.pop(_COMMITTED, None)

    def on_begin(conn: Connection) -> None:
        # The same connection starts another transaction: its last commit is done.
        if conn.info.pop(_COMMITTED, False):
            wakeup.notify()

    def on_checkin(_dbapi: object, record: ConnectionPoolEntry) -> None:
        # Back in the pool: the transaction is over (committed or rolled back).
        if record.info.pop(_COMMITTED, False):
            wakeup.notify()

    event.listen(engine, "after_execute", after_execute)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    event.listen(engine, "begin", on_begin)
    event.listen(engine.pool, "checkin", on_checkin)
    db._outbox_wakeup = wakeup  # type: ignore[attr-defined]  # one per Database
    return wakeup
