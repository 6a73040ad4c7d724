"""``/streamops roles grant|revoke|list``: admins hand out roles, stored in the database."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.authz import Role, parse_role
from bot.container import Container
from bot.errors import InvalidInput
from bot.services.actor import AuditTrail, Target, authorize
from handlers.requests import actor_of_command
from handlers.router import Invocation, Routers

USAGE = "roles grant <@user> <role> | roles revoke <@user> <role> | roles list"
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_BARE_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def parse_user(text: str) -> str:
    """The Slack user id in ``<@U123|name>``, ``<@U123>`` or ``U123``.

    Raises:
        InvalidInput: ``text`` names no user.
    """
    mention = _MENTION.match(text.strip())
    if mention:
        return mention.group(1)
    if _BARE_ID.match(text.strip()):
        return text.strip()
    raise InvalidInput(f"`{text}` is not a user: mention them (`@name`) or give their id")


def register(app: AsyncApp, deps: Container, routers: Routers) -> None:
    """Add ``roles`` to ``/streamops``."""

    @routers.streamops.sub(
        "roles", USAGE, "grant, revoke or list roles (admins)", min_args=1, max_args=3
    )
    async def roles(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        verb = inv.args[0].lower()
        if verb not in ("grant", "revoke", "list"):
            raise InvalidInput(f"unknown roles action `{inv.args[0]}`. Usage: `/streamops {USAGE}`")
        expected = 1 if verb == "list" else 3
        if len(inv.args) != expected:
            raise InvalidInput(f"usage: `/streamops {USAGE}`")
        trail = AuditTrail(deps.audit, actor_of_command(inv, deps.clock()), deps.clock)
        action = {"grant": "role.grant", "revoke": "role.revoke", "list": "role.list"}[verb]
        user_id = parse_user(inv.args[1]) if verb != "list" else None
        role = parse_role(inv.args[2]) if verb != "list" else None
        await authorize(deps.authz, trail, "roles.manage", action, _target(user_id, role))
        store = deps.authz.store
        if verb == "list":
            await respond(text=await _listing(deps), response_type="ephemeral")
            return
        assert user_id is not None and role is not None
        if role is Role.VIEWER:
            raise InvalidInput("everyone is a viewer; grant admin, releaser or media")
        if verb == "grant":
            changed = await store.grant(user_id, role.value, inv.user_id)
            text = (
                f"<@{user_id}> now has the *{role.value}* role."
                if changed
                else f"<@{user_id}> already had the *{role.value}* role."
            )
        else:
            changed = await store.revoke(user_id, role.value)
            text = (
                f"<@{user_id}> no longer has the *{role.value}* role."
                if changed
                else f"<@{user_id}> did not have the *{role.value}* role."
            )
            if not changed and role is Role.ADMIN and user_id in deps.authz.admins:
                text += " (They are an admin through STREAMOPS_ADMINS, which only config changes.)"
        message = "changed" if changed else "unchanged"
        await trail.record(action, "ok", _target(user_id, role), message)
        await respond(text=f":white_check_mark: {text}", response_type="ephemeral")


def _target(user_id: str | None, role: Role | None) -> Target:
    """The user a role change is about (nothing for ``list``)."""
    return Target(
        None,
        "user" if user_id else None,
        user_id,
        {"role": role.value} if role else {},
    )


async def _listing(deps: Container) -> str:
    lines = [f"• <@{admin}> — admin (STREAMOPS_ADMINS)" for admin in sorted(deps.authz.admins)]
    by_user: dict[str, list[str]] = {}
    for grant in await deps.authz.store.all_grants():
        by_user.setdefault(grant.user_id, []).append(grant.role)
    lines += [f"• <@{user}> — {', '.join(roles)}" for user, roles in by_user.items()]
    if not lines:
        return "No roles are granted; everyone is a viewer."
    return "*Roles* (everyone else is a viewer)\n" + "\n".join(lines)
