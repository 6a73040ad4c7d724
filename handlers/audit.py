"""``/audit``: admins query and export the audit log; everyone else is refused politely."""

from __future__ import annotations

import asyncio
import io
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditFilters, parse_filters
from bot.deps import Deps
from bot.errors import NotAuthorized
from bot.services.actor import Actor, AuditTrail, Target
from bot.services.audit_verify import AuditVerifier, VerifyReport
from handlers import ids
from handlers.blocks.audit import audit_page
from handlers.blocks.audit_notices import verify_result, verify_started
from handlers.requests import (
    actor_of_click,
    actor_of_command,
    audit_trail,
    click_listener,
    clicked_value,
)
from handlers.router import Invocation

if TYPE_CHECKING:
    from handlers import Routers

PAGE_SIZE = 20


def register(app: AsyncApp, deps: Deps, routers: Routers) -> None:
    """Add ``query`` (the default), ``export``, ``verify`` to ``/audit``; the paging buttons."""
    from storage.audit import AuditLog

    log = AuditLog(deps.db)

    async def admin_trail(actor: Actor, what: str) -> AuditTrail:
        """The actor's audit trail, once they are an admin (refusals audited)."""
        trail = audit_trail(deps, actor)
        if not await deps.authz.allowed(actor.user_id, "audit.query"):
            await trail.record(what, "denied", Target(), "audit log is for admins")
            raise NotAuthorized("Sorry, the audit log is only open to StreamOps admins.")
        return trail

    async def show(filters: AuditFilters, respond: AsyncRespond, *, replace: bool) -> None:
        page = await log.query(filters, limit=PAGE_SIZE)
        summary = await log.summary(filters)
        text = filters.with_page(1).as_text()
        blocks = audit_page(
            page,
            summary,
            text,
            prev_value=filters.with_page(filters.page - 1).as_text(),
            next_value=filters.with_page(filters.page + 1).as_text(),
        )
        await respond(
            text=f"Audit log: {summary.total} entries",
            blocks=blocks,
            response_type="ephemeral",
            replace_original=replace,
        )

    @routers.audit.sub(
        "query",
        "[user=…] [action=…] [provider=…] [target=…] [outcome=ok|denied|failed] "
        "[since=7d] [until=2026-11-01] [page=N]",
        "who did what, newest first, with counts by action and actor",
    )
    async def query(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        await admin_trail(actor_of_command(inv, deps.clock()), "audit.query")
        text = inv.raw_text if inv.subcommand != "query" else " ".join(inv.args)
        await show(parse_filters(text, now=deps.clock()), respond, replace=False)

    @routers.audit.sub(
        "export", "export [filters]", "send yourself the matching rows as CSV and JSON"
    )
    async def export(inv: Invocation, respond: AsyncRespond, client: AsyncWebClient) -> None:
        trail = await admin_trail(actor_of_command(inv, deps.clock()), "audit.export")
        filters = parse_filters(" ".join(inv.args), now=deps.clock())
        csv_out, json_out = io.StringIO(), io.StringIO()
        count = await log.export(filters, "csv", csv_out)
        await log.export(filters, "json", json_out)
        dm = await client.conversations_open(users=inv.user_id)
        stamp = deps.clock().strftime("%Y%m%dT%H%M%SZ")
        await client.files_upload_v2(
            channel=dm["channel"]["id"],
            initial_comment=f"Audit export: {count} entries (`{filters.as_text() or 'all'}`)",
            file_uploads=[
                {"content": csv_out.getvalue(), "filename": f"audit-{stamp}.csv"},
                {"content": json_out.getvalue(), "filename": f"audit-{stamp}.json"},
            ],
        )
        params = {"filters": filters.as_text(), "rows": count}
        await trail.record("audit.export", "ok", Target(params=params))
        await respond(
            text=f"Sent you {count} audit entries as CSV and JSON in a direct message.",
            response_type="ephemeral",
        )

    verifier = AuditVerifier(
        AuditLog(deps.db, keys=deps.settings.audit_keys()),
        deps.settings.audit_witness,
        deps.audit.record,
        deps.clock,
        deps.authz,
    )

    @routers.audit.sub(
        "verify",
        "verify",
        "check every row, checkpoint and the witnessed head; answers here when done",
    )
    async def verify(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        told = asyncio.Event()  # the result never overtakes "verifying…"

        async def answer(report: VerifyReport) -> None:
            await told.wait()
            text, blocks = verify_result(report)
            await respond(text=text, blocks=blocks, response_type="ephemeral")

        await verifier.request(actor_of_command(inv, deps.clock()), answer)
        try:
            await respond(text=verify_started(), response_type="ephemeral")
        finally:
            told.set()

    async def page_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        await admin_trail(actor_of_click(body, deps.clock()), "audit.query")
        await show(parse_filters(clicked_value(body), now=deps.clock()), respond, replace=True)

    app.action(re.compile(f"^{ids.AUDIT_PAGE}_"))(click_listener(page_clicked))
