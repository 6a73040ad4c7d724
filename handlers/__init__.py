"""Slack listeners and HTTP routes. ``register`` wires every Slack surface onto the Bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach every Slack listener to ``app``."""
    from handlers import home

    home.register(app, deps)
