"""The App Home tab: what StreamOps can do, operations at a glance, Refresh and Retry."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import UserFacingError
from handlers import ids
from handlers.blocks.home import home_view, retry_notice
from handlers.blocks.parts import esc

log = logging.getLogger("streamops.home")


async def publish(
    c: Container, client: AsyncWebClient, user_id: str, notice: str | None = None
) -> None:
    """Render ``user_id``'s Home tab and publish it (a failure is counted and logged)."""
    view = home_view(await c.home.home(user_id), notice=notice)
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:  # counted in /metrics by the client (bot.slack_errors)
        error = exc.response.get("error") or f"http_{exc.response.status_code}"
        log.warning("views.publish for %s failed: %s", user_id, error)


def register(app: AsyncApp, container: Container) -> None:
    """Publish the Home tab when a user opens it; Refresh and Retry buttons."""

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        await publish(container, client, str(event["user"]))

    @app.action(ids.HOME_REFRESH)
    async def on_refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await publish(container, client, str(body["user"]["id"]))

    @app.action(ids.HOME_RETRY_DELIVERY)
    async def on_retry(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str(body["user"]["id"])
        raw = str(body["actions"][0].get("value", ""))
        try:
            result = await container.home.retry_delivery(user_id, int(raw))
        except ValueError:
            notice = "That Retry button is not valid any more."
        except UserFacingError as exc:
            notice = f":no_entry: {esc(str(exc))}"
        else:
            notice = retry_notice(result)
        await publish(container, client, user_id, notice)
