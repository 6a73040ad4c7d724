"""The App Home tab: what StreamOps can do, and for whom."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from handlers.blocks.home import home_view


def register(app: AsyncApp, container: Container) -> None:
    """Publish the Home tab whenever a user opens it."""

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        await client.views_publish(user_id=event["user"], view=home_view())
