"""Background audit integrity: witnessed checkpoints every minute, and a daily verification.

:class:`CheckpointWitness` checkpoints the chain head at least once a minute
while rows are being added (and once more at shutdown), and publishes each
new signed head outside the database: appended to the witness file and
posted to the audit channel through the outbox. A tail deleted with its
checkpoints is then caught by ``streamops audit verify --witness``; rows
written after the last head are the only window (at most a minute of rows).

:class:`ScheduledVerification` verifies the whole log every
``STREAMOPS_AUDIT_VERIFY_HOURS`` (daily by default) and, when it fails, tells
the admins: in the audit channel if there is one, else by direct message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.jobs.loop import repeat
from bot.services.audit_verify import AuditVerifier
from storage.audit import AuditLog, Checkpoint
from storage.audit_chain import iso
from storage.audit_notices import AuditAlarm, AuditHeadNotice
from storage.audit_verify import VerifyReport
from storage.audit_witness import append_head
from storage.coordination import ClaimStore
from storage.notifications import Notification

log = logging.getLogger("streamops.audit")


class Enqueue(Protocol):
    """Queues a notice for a channel in the outbox (``OutboxStore.enqueue``)."""

    def __call__(self, channel: str, notification: Notification, now: datetime) -> Awaitable[None]:
        """Queue ``notification`` for ``channel``."""
        ...


class CheckpointWitness:
    """Checkpoint the audit head and publish every new signed head.

    Args:
        audit: the audit log (signs checkpoints when it has a key).
        enqueue: writes an outbox row.
        clock: the current aware UTC time.
        witness_file: ``STREAMOPS_AUDIT_WITNESS``: heads are appended here.
        channel: ``STREAMOPS_AUDIT_CHANNEL``: heads are posted here.
    """

    def __init__(
        self,
        audit: AuditLog,
        enqueue: Enqueue,
        clock: Callable[[], datetime],
        *,
        witness_file: Path | None = None,
        channel: str | None = None,
    ) -> None:
        self._audit = audit
        self._enqueue = enqueue
        self._clock = clock
        self._witness_file = witness_file
        self._channel = channel
        self.published = 0  # the newest checkpoint id this process published

    async def step(self) -> Checkpoint | None:
        """Checkpoint the head if rows were added; publish the newest head if not yet done."""
        made = await self._audit.checkpoint()
        newest = made or await self._audit.latest_checkpoint()
        if newest is None or newest.id <= self.published:
            return made
        head = newest.witness_head()
        if head is not None:
            if self._witness_file is not None:
                await asyncio.to_thread(append_head, self._witness_file, head)
            if self._channel:
                await self._enqueue(self._channel, AuditHeadNotice(head), self._clock())
        self.published = newest.id
        return made

    async def run(self, interval: float) -> None:
        """Every ``interval`` seconds (at most 60) until cancelled; one last round at shutdown."""
        try:
            await repeat("audit-checkpoint", self.step, interval=interval)
        finally:
            await asyncio.shield(self._guarded())

    async def _guarded(self) -> None:
        try:
            await self.step()
        except asyncio.CancelledError:
            raise
        except Exception:  # keep checkpointing after a transient database or disk error
            log.exception("audit checkpoint failed")


class ScheduledVerification:
    """Verify the log now and then; tell the admins in Slack when it fails.

    Args:
        verifier: runs the verification (with the witness file).
        enqueue: writes an outbox row.
        clock: the current aware UTC time.
        admins: the admins' Slack user ids (mentioned, or messaged directly).
        channel: ``STREAMOPS_AUDIT_CHANNEL``; without it each admin gets a direct message.
        claims: when given, one replica only verifies per ``interval`` (a claim per round).
        interval: seconds between verifications.
    """

    def __init__(
        self,
        verifier: AuditVerifier,
        enqueue: Enqueue,
        clock: Callable[[], datetime],
        *,
        admins: Sequence[str],
        channel: str | None = None,
        claims: ClaimStore | None = None,
        interval: float = 86_400.0,
    ) -> None:
        self._verifier = verifier
        self._enqueue = enqueue
        self._clock = clock
        self._admins = tuple(sorted(admins))
        self._channel = channel
        self._claims = claims
        self.interval = interval

    async def step(self) -> VerifyReport | None:
        """Verify once (unless another replica has this round); on failure, alarm the admins."""
        if self._claims is not None:
            round_no = int(self._clock().timestamp() // self.interval)
            if not await self._claims.claim(f"audit-verify:{round_no}", "scheduler"):
                return None
        report = await self._verifier.verify()
        if report.ok:
            log.info("scheduled audit verification: %s", report.describe())
            return report
        log.error("scheduled audit verification FAILED: %s", report.describe())
        alarm = AuditAlarm(
            problem=str(report.problem),
            first_bad=report.first_bad_id,
            reason=report.reason,
            admins=self._admins,
            at=iso(self._clock()) or "",
        )
        now = self._clock()
        for channel in [self._channel] if self._channel else self._admins:
            await self._enqueue(channel, alarm, now)
        return report

    async def run(self) -> None:
        """Every ``interval`` seconds until cancelled (the first check after one interval)."""
        await asyncio.sleep(self.interval)
        await repeat("audit-verify", self.step, interval=self.interval)
