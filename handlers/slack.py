"""``register``: every Slack listener onto the Bolt app, bound to the container."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.container import Container
from handlers import (
    approvals,
    audit,
    build,
    freezes,
    home,
    live,
    media,
    roles,
    schedule,
    slack_upload,
    subscriptions,
    upload_forms,
)
from handlers import help as help_command
from handlers.replay_guard import replay_guard
from handlers.respond_guard import guard_respond
from handlers.router import Routers, make_routers

__all__ = ["Routers", "make_routers", "register"]


def register(app: AsyncApp, container: Container) -> None:
    """Attach every Slack listener to ``app``."""
    app.use(replay_guard(container.claims))  # Slack deliveries run once (retries, replays)
    app.use(guard_respond)  # refused response_url posts are logged and explained
    routers = make_routers()
    # The slash commands first: Bolt tries each listener's matcher in order until one
    # matches, and commands are the most frequent requests (28 non-matching action,
    # view and event matchers ran before /build's). Commands and the other listeners
    # never match the same request, so the order changes no dispatch. The routers read
    # their subcommands when a command arrives, so the modules below still add them.
    for router in routers.all():
        router.register(app, container)
    home.register(app, container)
    subscriptions.register(app, container, routers)
    help_command.register(routers)
    audit.register(app, container, routers)
    build.register(app, container, routers)
    schedule.register(app, container, routers)
    approvals.register(app, container, routers)
    freezes.register(app, container, routers)
    media.register(app, container, routers)
    upload_forms.register(app, container)
    slack_upload.register(app, container)
    live.register(app, container, routers)
    roles.register(app, container, routers)
