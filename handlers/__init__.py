"""Slack listeners and HTTP routes. ``register`` wires every Slack surface onto the Bolt app."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers.router import CommandRouter


@dataclass(frozen=True)
class Routers:
    """The five slash commands; feature modules add their subcommands to them."""

    build: CommandRouter
    media: CommandRouter
    live: CommandRouter
    audit: CommandRouter
    streamops: CommandRouter

    def all(self) -> tuple[CommandRouter, ...]:
        """Every router, in the order help lists them."""
        return (self.build, self.media, self.live, self.audit, self.streamops)


def make_routers() -> Routers:
    """Empty routers for the five commands."""
    return Routers(
        build=CommandRouter("/build", "Streampixel builds"),
        media=CommandRouter("/media", "StreamStack videos"),
        live=CommandRouter("/live", "StreamAPI live sessions"),
        audit=CommandRouter("/audit", "who did what (admins)", default="query"),
        streamops=CommandRouter("/streamops", "help, roles, subscriptions"),
    )


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach every Slack listener to ``app``."""
    from handlers import audit, build, home, live, media, roles, subscriptions
    from handlers import help as help_command
    from handlers.replay_guard import replay_guard
    from handlers.respond_guard import guard_respond

    app.use(replay_guard(deps.claims))
    app.use(guard_respond)
    routers = make_routers()
    home.register(app, deps)
    subscriptions.register(app, deps, routers)
    help_command.register(routers)
    audit.register(app, deps, routers)
    build.register(app, deps, routers)
    media.register(app, deps, routers)
    live.register(deps, routers)
    roles.register(deps, routers)
    for router in routers.all():
        router.register(app)
