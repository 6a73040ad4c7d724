"""The App Home tab: what StreamOps can do, and for whom."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from handlers.blocks.home import home_view
from handlers.slack_errors import slack_error_text

log = logging.getLogger("streamops.home")


def register(app: AsyncApp, deps: Deps) -> None:
    """Publish the Home tab whenever a user opens it."""

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        try:
            await client.views_publish(user_id=event["user"], view=home_view())
        except SlackApiError as exc:  # nobody to answer in words: the admin reads the log
            log.warning("Home tab not published for %s: %s", event["user"], slack_error_text(exc))
