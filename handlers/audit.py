"""``/audit``: thin listeners over :mod:`bot.services.audit_log` and the audit verifier."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.records import VerifyReport
from bot.services.audit_log import AuditView
from handlers import ids
from handlers.blocks.audit import audit_page
from handlers.blocks.audit_notices import verify_result, verify_started
from handlers.requests import actor_of_click, actor_of_command, click_listener, clicked_value
from handlers.router import Invocation, Routers, Subcommand


async def show(view: AuditView, respond: AsyncRespond, *, replace: bool) -> None:
    """Answer with one page of the audit log and its paging buttons."""
    filters = view.filters
    blocks = audit_page(
        view.page,
        view.summary,
        filters.with_page(1).as_text(),
        prev_value=filters.with_page(filters.page - 1).as_text(),
        next_value=filters.with_page(filters.page + 1).as_text(),
    )
    await respond(
        text=f"Audit log: {view.summary.total} entries",
        blocks=blocks,
        response_type="ephemeral",
        replace_original=replace,
    )


async def query(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/audit [filters]``: who did what, newest first."""
    text = inv.raw_text if inv.subcommand != "query" else " ".join(inv.args)
    view = await c.audit_log.query(actor_of_command(inv, c.clock()), text)
    await show(view, respond, replace=False)


async def export(
    inv: Invocation, c: Container, respond: AsyncRespond, client: AsyncWebClient
) -> None:
    """``/audit export [filters]``: the rows as CSV and JSON, by direct message."""
    done = await c.audit_log.export(actor_of_command(inv, c.clock()), " ".join(inv.args))
    dm = await client.conversations_open(users=inv.user_id)
    stamp = done.at.strftime("%Y%m%dT%H%M%SZ")
    await client.files_upload_v2(
        channel=dm["channel"]["id"],
        initial_comment=f"Audit export: {done.count} entries (`{done.filters.as_text() or 'all'}`)",
        file_uploads=[
            {"content": done.csv, "filename": f"audit-{stamp}.csv"},
            {"content": done.json, "filename": f"audit-{stamp}.json"},
        ],
    )
    await respond(
        text=f"Sent you {done.count} audit entries as CSV and JSON in a direct message.",
        response_type="ephemeral",
    )


async def verify(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/audit verify``: answers "verifying…" now and the result when it is done."""
    told = asyncio.Event()  # the result never overtakes "verifying…"

    async def answer(report: VerifyReport) -> None:
        await told.wait()
        text, blocks = verify_result(report)
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    await c.audit_verifier.request(actor_of_command(inv, c.clock()), answer)
    try:
        await respond(text=verify_started(), response_type="ephemeral")
    finally:
        told.set()


async def page_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The paging buttons of ``/audit``."""
    view = await c.audit_log.query(actor_of_click(body, c.clock()), clicked_value(body))
    await show(view, respond, replace=True)


SUBCOMMANDS = (
    Subcommand(
        "query",
        "[user=…] [action=…] [provider=…] [target=…] [outcome=ok|denied|failed] "
        "[since=7d] [until=2026-11-01] [page=N]",
        "who did what, newest first, with counts by action and actor",
        query,
    ),
    Subcommand(
        "export", "export [filters]", "send yourself the matching rows as CSV and JSON", export
    ),
    Subcommand(
        "verify",
        "verify",
        "check every row, checkpoint and the witnessed head; answers here when done",
        verify,
    ),
)


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add ``query`` (the default), ``export``, ``verify`` to ``/audit``; the paging buttons."""
    routers.audit.add(*SUBCOMMANDS)
    app.action(re.compile(f"^{ids.AUDIT_PAGE}_"))(click_listener(page_clicked, container))
