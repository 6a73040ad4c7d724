"""Who is typing in the demo: the predefined users, or any Slack user id."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import InvalidInput

_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class DemoUser:
    """A Slack user the console types as."""

    id: str
    name: str


ADMIN = DemoUser("UDEMOADMIN", "admin")
RELEASER = DemoUser("UDEMORELEASER", "releaser")
VIEWER = DemoUser("UDEMOVIEWER", "viewer")

#: ``--as`` names. The admin is in ``STREAMOPS_ADMINS``; the releaser is granted the
#: ``releaser`` role when the demo starts; the viewer holds no role.
PREDEFINED: dict[str, DemoUser] = {u.name: u for u in (ADMIN, RELEASER, VIEWER)}


def resolve_user(text: str) -> DemoUser:
    """The user named ``text``: ``admin``, ``releaser``, ``viewer`` or a Slack id like ``U123ABC``.

    Raises:
        InvalidInput: when ``text`` is neither.
    """
    name = text.strip()
    if name.lower() in PREDEFINED:
        return PREDEFINED[name.lower()]
    if _SLACK_ID.match(name):
        return DemoUser(name, name.lower())
    known = ", ".join(PREDEFINED)
    raise InvalidInput(f"unknown user `{name}`: use {known} or a Slack user id like U0123ABC")
