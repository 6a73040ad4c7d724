"""``/build distribute|rollback … at/in …``, ``/build scheduled`` and their buttons.

Thin listeners: parse, call :class:`bot.services.schedules.Schedules`, render
with :mod:`handlers.blocks.releases`, answer. A scheduled run is offered with a
confirmed **Schedule** button (it runs once); ``/build scheduled`` lists the
pending runs with **Cancel** buttons (the requester or an admin).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput
from bot.services.oneshot import AlreadyUsed
from handlers import ids
from handlers.blocks import releases as blocks
from handlers.blocks.parts import esc
from handlers.requests import (
    actor_of_click,
    actor_of_command,
    button_of,
    click_listener,
    clicked_value,
)
from handlers.router import Invocation, Routers, Subcommand

#: The words that start a schedule in ``/build distribute <project> <uploadId> at …``.
SCHEDULE_WORDS = ("at", "in")


def is_scheduled(args: list[str]) -> bool:
    """True when a distribute/rollback command names a time (``at …`` / ``in …``)."""
    return len(args) > 2 and args[2].lower() in SCHEDULE_WORDS


async def offer_schedule(action: str, inv: Invocation, c: Container, respond: AsyncRespond) -> None:
    """``/build distribute|rollback <project> <uploadId> at|in …``: offer a Schedule button."""
    actor = actor_of_command(inv, c.clock())
    offer = await c.schedules.offer(actor, action, inv.args[0], inv.args[1], inv.args[2:])
    shown = blocks.schedule_offer(
        action,
        offer.project_name,
        offer.project_id,
        offer.upload_id,
        offer.when,
        known=offer.known,
        live_upload_id=offer.live_upload_id,
        approvals_needed=offer.approvals_needed,
    )
    await respond(
        text=f"Schedule {action} of {esc(offer.upload_id)} at {offer.when:%Y-%m-%d %H:%M} UTC?",
        blocks=shown,
        response_type="in_channel",
    )


async def scheduled(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/build scheduled``: pending runs with Cancel buttons."""
    runs = await c.schedules.upcoming()
    await respond(
        text=f"{len(runs)} scheduled runs",
        blocks=blocks.scheduled_list(runs),
        response_type="ephemeral",
    )


SUBCOMMANDS = (
    Subcommand(
        "scheduled",
        "scheduled",
        "scheduled distributions and rollbacks, with Cancel buttons",
        scheduled,
        0,
        0,
    ),
)


def _schedule_value(raw: str) -> tuple[str, str, str, datetime]:
    try:
        value = json.loads(raw)
        action, project_id, upload_id = str(value["a"]), str(value["p"]), str(value["u"])
        when = datetime.fromtimestamp(int(value["t"]), UTC)
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("this button's value could not be read") from None
    return action, project_id, upload_id, when


async def schedule_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The confirmed Schedule button: store the run."""
    actor = actor_of_click(body, c.clock())
    action, project_id, upload_id, when = _schedule_value(clicked_value(body))
    result = await c.schedules.confirm(
        actor, action, project_id, upload_id, when, button=button_of(body)
    )
    if isinstance(result, AlreadyUsed):
        who = f"<@{result.claim.actor_id}>" if result.claim else "someone"
        await respond(
            text=f"{who} already scheduled this.", response_type="ephemeral", replace_original=False
        )
        return
    schedule = result.schedule
    await respond(
        text=f"Scheduled run #{schedule.id} for {schedule.due_at:%Y-%m-%d %H:%M} UTC",
        blocks=blocks.scheduled_notice(schedule),
        replace_original=True,
    )


async def cancel_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """A Cancel button (on the scheduled notice or in ``/build scheduled``)."""
    actor = actor_of_click(body, c.clock())
    raw = clicked_value(body)
    if not raw.isdigit():
        raise InvalidInput("this button's value could not be read")
    cancelled = await c.schedules.cancel(actor, int(raw))
    await respond(
        text=f"Scheduled run #{cancelled.id} cancelled",
        blocks=blocks.schedule_cancelled(cancelled),
        replace_original=True,
    )


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add ``/build scheduled`` and the Schedule and Cancel buttons."""
    routers.build.add(*SUBCOMMANDS)
    app.action(ids.BUILD_SCHEDULE)(click_listener(schedule_clicked, container))
    app.action(ids.BUILD_SCHEDULE_CANCEL)(click_listener(cancel_clicked, container))
