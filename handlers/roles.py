"""``/streamops roles grant|revoke|list``: thin listener over :mod:`bot.services.roles`."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.authz import parse_role
from bot.container import Container
from bot.errors import InvalidInput
from bot.services.roles import RoleChange, RoleListing
from handlers.blocks.parts import code
from handlers.requests import actor_of_command
from handlers.router import Invocation, Routers, Subcommand

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
    raise InvalidInput(f"{code(text)} is not a user: mention them (`@name`) or give their id")


async def roles(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/streamops roles grant|revoke <@user> <role>`` and ``roles list``."""
    verb = inv.args[0].lower()
    if verb not in ("grant", "revoke", "list"):
        raise InvalidInput(f"unknown roles action {code(inv.args[0])}. Usage: `/streamops {USAGE}`")
    if len(inv.args) != (1 if verb == "list" else 3):
        raise InvalidInput(f"usage: `/streamops {USAGE}`")
    actor = actor_of_command(inv, c.clock())
    if verb == "list":
        text = listing_text(await c.roles.listing(actor))
        await respond(text=text, response_type="ephemeral")
        return
    user_id, role = parse_user(inv.args[1]), parse_role(inv.args[2])
    if verb == "grant":
        change = await c.roles.grant(actor, user_id, role)
    else:
        change = await c.roles.revoke(actor, user_id, role)
    await respond(text=f":white_check_mark: {change_text(change)}", response_type="ephemeral")


def change_text(change: RoleChange) -> str:
    """What a grant or revoke did, in words."""
    who, role = f"<@{change.user_id}>", change.role.value
    if change.granted:
        if change.changed:
            return f"{who} now has the *{role}* role."
        return f"{who} already had the *{role}* role."
    if change.changed:
        return f"{who} no longer has the *{role}* role."
    text = f"{who} did not have the *{role}* role."
    if change.config_admin:
        text += " (They are an admin through STREAMOPS_ADMINS, which only config changes.)"
    return text


def listing_text(listing: RoleListing) -> str:
    """Who holds which role."""
    lines = [f"• <@{admin}> — admin (STREAMOPS_ADMINS)" for admin in listing.admins]
    lines += [f"• <@{user}> — {', '.join(held)}" for user, held in listing.grants.items()]
    if not lines:
        return "No roles are granted; everyone is a viewer."
    return "*Roles* (everyone else is a viewer)\n" + "\n".join(lines)


SUBCOMMANDS = (Subcommand("roles", USAGE, "grant, revoke or list roles (admins)", roles, 1, 3),)


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add ``roles`` to ``/streamops``."""
    routers.streamops.add(*SUBCOMMANDS)
