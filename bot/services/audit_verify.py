"""Verify the audit log: one use case for the CLI, ``/audit verify`` and the daily check.

:func:`verify_log` reads the newest witnessed head from the witness file (if
one is kept) and walks every row and checkpoint. :class:`AuditVerifier` runs
it in the background for an admin on Slack and answers when done, recording
the request and its outcome in the audit log itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from bot.authz import Authorizer
from bot.errors import NotAuthorized
from bot.services.actor import Actor
from storage.audit import AuditLog
from storage.audit_events import AuditEvent
from storage.audit_notices import AUDIT_ALARM, AUDIT_HEAD, AuditAlarm, AuditHeadNotice
from storage.audit_verify import VerifyReport
from storage.audit_witness import WitnessError, WitnessHead, newest_head

__all__ = [
    "AUDIT_ALARM",
    "AUDIT_HEAD",
    "AuditAlarm",
    "AuditHeadNotice",
    "AuditVerifier",
    "VerifyReport",
    "WitnessHead",
    "verify_log",
]

log = logging.getLogger("streamops.audit")

Answer = Callable[[VerifyReport], Awaitable[None]]


async def verify_log(audit: AuditLog, witness_file: Path | None) -> VerifyReport:
    """Verify every row and checkpoint, and the newest head of ``witness_file`` if given.

    A witness file that does not exist yet (no checkpoint has been published)
    is reported, not treated as tampering.

    Raises:
        WitnessError: the witness file exists but cannot be read as heads.
    """
    head: WitnessHead | None = None
    note = ""
    if witness_file is not None:
        if await asyncio.to_thread(witness_file.exists):
            head = await asyncio.to_thread(newest_head, witness_file)
            if head is None:
                note = f"the witness file {witness_file} holds no head yet"
        else:
            note = f"no witness file at {witness_file} yet"
    report = await audit.verify(head)
    if note and not report.witness:
        report = dataclasses.replace(report, witness=note)
    return report


class AuditVerifier:
    """Runs verifications in the background and answers each requester when it is done.

    Args:
        audit: the audit log (with the keys).
        witness_file: ``STREAMOPS_AUDIT_WITNESS``, if set.
        record: where the request and its outcome are audited.
        clock: the current aware UTC time.
        authz: who may ask (admins: the ``audit.query`` permission).
    """

    def __init__(
        self,
        audit: AuditLog,
        witness_file: Path | None,
        record: Callable[[AuditEvent], Awaitable[None]],
        clock: Callable[[], datetime],
        authz: Authorizer | None = None,
    ) -> None:
        self._audit = audit
        self._witness = witness_file
        self._record = record
        self._clock = clock
        self._authz = authz
        self._running: set[asyncio.Task[None]] = set()

    async def request(self, actor: Actor, answer: Answer) -> asyncio.Task[None]:
        """``/audit verify``: authorize the actor, then verify in the background and answer.

        Raises:
            NotAuthorized: the actor is not an admin (the refusal is audited).
        """
        event = AuditEvent(
            action="audit.verify",
            outcome="ok",
            actor_id=actor.user_id,
            actor_name=actor.user_name,
            team_id=actor.team_id,
            channel_id=actor.channel_id,
            source=actor.source,
            requested_at=actor.requested_at,
            correlation_id=actor.correlation_id,
        )
        if self._authz is not None and not await self._authz.allowed(actor.user_id, "audit.query"):
            await self._record(
                dataclasses.replace(
                    event,
                    outcome="denied",
                    completed_at=self._clock(),
                    message="audit log is for admins",
                )
            )
            raise NotAuthorized("Sorry, the audit log is only open to StreamOps admins.")
        return self.start(event, answer)

    async def verify(self) -> VerifyReport:
        """Verify now and return the report (a witness file that cannot be read fails it)."""
        try:
            return await verify_log(self._audit, self._witness)
        except WitnessError as exc:
            return VerifyReport(False, 0, reason=str(exc), problem="bad key")

    def start(self, event: AuditEvent, answer: Answer) -> asyncio.Task[None]:
        """Verify in the background; audit ``event`` with the outcome, then call ``answer``.

        Args:
            event: the request as the caller would audit it (action ``audit.verify``);
                its outcome and parameters are filled in when the check is done.
            answer: called with the report once it is ready.
        """
        task = asyncio.create_task(self._run(event, answer), name="audit-verify")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _run(self, event: AuditEvent, answer: Answer) -> None:
        report = await self.verify()
        done = dataclasses.replace(
            event,
            outcome="ok",
            completed_at=self._clock(),
            params={
                **event.params,
                "verified": report.ok,
                "problem": report.problem,
                "first_bad": report.first_bad_id,
                "rows": report.rows_checked,
            },
            message=report.describe()[:500],
        )
        try:
            await self._record(done)
        except Exception:  # the answer matters more than the record of asking
            log.exception("could not audit the verification request")
        await answer(report)

    async def aclose(self) -> None:
        """Wait for the verifications under way (at shutdown)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
