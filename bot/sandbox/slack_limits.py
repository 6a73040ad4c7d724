"""What real Slack refuses, for the fake Slack: scopes per method and Block Kit limits.

The numbers come from Slack's Block Kit and Web API reference (collected in
``shared/research/slack-platform.md`` §4): block counts per surface, text
lengths per element, identifier lengths and uniqueness, the 40,000-character
message ``text``. :func:`message_errors` and :func:`view_errors` return the
problems found (empty when Slack would accept the payload), phrased like the
``errors`` list Slack sends with ``invalid_blocks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

#: Bot scopes that allow each Web API method (any one of them suffices).
#: Methods missing here need no scope (``auth.test``, ``views.*``, ``chat.getPermalink``).
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.scheduleMessage": frozenset({"chat:write"}),
    "conversations.open": frozenset({"im:write", "mpim:write", "channels:manage", "groups:write"}),
    "conversations.info": frozenset({"channels:read", "groups:read", "im:read", "mpim:read"}),
    "conversations.list": frozenset({"channels:read", "groups:read", "im:read", "mpim:read"}),
    "conversations.join": frozenset({"channels:join"}),
    "conversations.members": frozenset({"channels:read", "groups:read", "im:read", "mpim:read"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "files.upload": frozenset({"files:write"}),
    "files.info": frozenset({"files:read"}),
    "users.info": frozenset({"users:read"}),
    "users.list": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),
    "usergroups.list": frozenset({"usergroups:read"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "reactions.add": frozenset({"reactions:write"}),
    "pins.add": frozenset({"pins:write"}),
}

#: Methods that need no scope at all (token only).
SCOPELESS_METHODS = frozenset(
    {
        "auth.test",
        "views.open",
        "views.push",
        "views.update",
        "views.publish",
        "chat.getPermalink",
        "apps.connections.open",
    }
)

#: Scopes an app needs for reasons other than a Web API method.
NON_METHOD_SCOPES: dict[str, str] = {
    "commands": "receive the slash commands /build, /media, /live, /audit and /streamops",
    "chat:write.public": "post notifications to public channels the bot was not invited to",
    "files:read": "read a shared video's bytes (url_private) to upload it to StreamStack",
    "im:history": "receive message.im events (a video sent to the bot in a DM)",
}

MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
ID_LIMIT = 255

_TEXT_BLOCK_TYPES = {"plain_text", "mrkdwn"}
_BLOCK_TYPES = {
    "section",
    "header",
    "context",
    "actions",
    "divider",
    "image",
    "input",
    "rich_text",
    "markdown",
    "file",
    "video",
}


def manifest_path() -> Path:
    """The repository's ``manifest.yml`` (next to ``pyproject.toml``)."""
    return Path(__file__).resolve().parents[2] / "manifest.yml"


def manifest_scopes(path: Path | None = None) -> frozenset[str]:
    """The bot scopes ``manifest.yml`` requests."""
    data = yaml.safe_load((path or manifest_path()).read_text())
    scopes = data.get("oauth_config", {}).get("scopes", {}).get("bot", [])
    return frozenset(str(s) for s in scopes)


def scope_error(method: str, granted: Iterable[str]) -> str | None:
    """The scope(s) ``method`` needs when none of them is ``granted``; None when allowed."""
    needed = METHOD_SCOPES.get(method)
    if needed is None or needed & set(granted):
        return None
    return ",".join(sorted(needed))


class _Checker:
    """Collects problems while walking a payload (paths like ``blocks[2].text``)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, problem: str) -> None:
        self.errors.append(f"{problem} [json-pointer:/{path}]")

    def text(
        self,
        obj: Any,
        path: str,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.fail(path, "missing required field: text")
            return
        if not isinstance(obj, Mapping):
            self.fail(path, "must be a text object")
            return
        kind = obj.get("type")
        if kind not in _TEXT_BLOCK_TYPES or (plain_only and kind != "plain_text"):
            self.fail(path + "/type", f"must be plain_text{'' if plain_only else ' or mrkdwn'}")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.fail(path + "/text", "must be a non-empty string")
        elif len(value) > limit:
            self.fail(path + "/text", f"must be less than {limit + 1} characters")

    def ident(self, value: Any, path: str, seen: set[str] | None) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value:
            self.fail(path, "must be a non-empty string")
            return
        if len(value) > ID_LIMIT:
            self.fail(path, f"must be less than {ID_LIMIT + 1} characters")
        if seen is not None:
            if value in seen:
                self.fail(path, f"duplicate id {value!r}")
            seen.add(value)

    def confirm(self, obj: Any, path: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail(path, "must be a confirmation object")
            return
        self.text(obj.get("title"), path + "/title", 100, plain_only=True)
        self.text(obj.get("text"), path + "/text", 300)
        self.text(obj.get("confirm"), path + "/confirm", 30, plain_only=True)
        self.text(obj.get("deny"), path + "/deny", 30, plain_only=True)
        if obj.get("style") not in (None, "primary", "danger"):
            self.fail(path + "/style", "must be primary or danger")

    def option(self, obj: Any, path: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail(path, "must be an option object")
            return
        self.text(obj.get("text"), path + "/text", 75)
        value = obj.get("value")
        if not isinstance(value, str) or len(value) > 150:
            self.fail(path + "/value", "must be a string of at most 150 characters")

    def element(self, obj: Any, path: str, action_ids: set[str]) -> None:
        if not isinstance(obj, Mapping):
            self.fail(path, "must be an element object")
            return
        kind = obj.get("type")
        self.ident(obj.get("action_id"), path + "/action_id", action_ids)
        if "confirm" in obj:
            self.confirm(obj["confirm"], path + "/confirm")
        if kind == "button":
            self.text(obj.get("text"), path + "/text", 75, plain_only=True)
            value = obj.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                self.fail(path + "/value", "must be a string of at most 2000 characters")
            url = obj.get("url")
            if url is not None and (not isinstance(url, str) or len(url) > 3000):
                self.fail(path + "/url", "must be a string of at most 3000 characters")
            if obj.get("style") not in (None, "primary", "danger"):
                self.fail(path + "/style", "must be primary or danger")
        elif kind in ("static_select", "overflow", "radio_buttons", "checkboxes"):
            options = obj.get("options")
            most = 5 if kind == "overflow" else 100
            if options is None and kind == "static_select" and "option_groups" in obj:
                options = [o for g in obj["option_groups"] for o in g.get("options", [])]
            if not isinstance(options, list) or not options or len(options) > most:
                self.fail(path + "/options", f"must hold 1 to {most} options")
            else:
                for i, option in enumerate(options):
                    self.option(option, f"{path}/options/{i}")
        elif kind == "image":
            if not obj.get("alt_text"):
                self.fail(path + "/alt_text", "missing required field: alt_text")
        elif kind in ("plain_text", "mrkdwn"):
            self.text(obj, path, 3000)
        elif not isinstance(kind, str):
            self.fail(path + "/type", "missing required field: type")

    def block(self, obj: Any, path: str, block_ids: set[str]) -> None:
        if not isinstance(obj, Mapping):
            self.fail(path, "must be a block object")
            return
        kind = obj.get("type")
        if kind not in _BLOCK_TYPES:
            self.fail(path + "/type", f"unknown block type {kind!r}")
            return
        self.ident(obj.get("block_id"), path + "/block_id", block_ids)
        action_ids: set[str] = set()
        if kind == "section":
            fields = obj.get("fields")
            self.text(obj.get("text"), path + "/text", 3000, required=fields is None)
            if fields is not None:
                if not isinstance(fields, list) or not fields or len(fields) > 10:
                    self.fail(path + "/fields", "must hold 1 to 10 items")
                else:
                    for i, f in enumerate(fields):
                        self.text(f, f"{path}/fields/{i}", 2000)
            if "accessory" in obj:
                self.element(obj["accessory"], path + "/accessory", action_ids)
        elif kind == "header":
            self.text(obj.get("text"), path + "/text", 150, plain_only=True)
        elif kind == "context":
            elements = obj.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                self.fail(path + "/elements", "must hold 1 to 10 items")
            else:
                for i, e in enumerate(elements):
                    self.element(e, f"{path}/elements/{i}", action_ids)
        elif kind == "actions":
            elements = obj.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 25:
                self.fail(path + "/elements", "must hold 1 to 25 items")
            else:
                for i, e in enumerate(elements):
                    self.element(e, f"{path}/elements/{i}", action_ids)
        elif kind == "markdown":
            text = obj.get("text")
            if not isinstance(text, str) or not text or len(text) > 12_000:
                self.fail(path + "/text", "must be 1 to 12000 characters")
        elif kind == "input":
            self.text(obj.get("label"), path + "/label", 2000, plain_only=True)
            if "hint" in obj:
                self.text(obj.get("hint"), path + "/hint", 2000, plain_only=True)
            self.element(obj.get("element"), path + "/element", action_ids)
        elif kind == "image":
            url = obj.get("image_url")
            if url is not None and (not isinstance(url, str) or len(url) > 3000):
                self.fail(path + "/image_url", "must be at most 3000 characters")
            alt = obj.get("alt_text")
            if not isinstance(alt, str) or not alt or len(alt) > 2000:
                self.fail(path + "/alt_text", "must be 1 to 2000 characters")

    def blocks(self, blocks: Any, limit: int) -> None:
        if not isinstance(blocks, list):
            self.fail("blocks", "must be an array")
            return
        if len(blocks) > limit:
            self.fail("blocks", f"no more than {limit} items allowed")
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"blocks/{i}", block_ids)


def message_errors(payload: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """``(error, details)`` Slack would answer for this message payload, or None if valid.

    ``payload`` is a ``chat.postMessage``/``chat.update``/``response_url`` body.
    """
    text = payload.get("text")
    blocks = payload.get("blocks")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
        return "msg_too_long", [f"text is {len(text)} characters (at most {MESSAGE_TEXT_LIMIT})"]
    if blocks is not None:
        checker = _Checker()
        checker.blocks(blocks, MESSAGE_BLOCKS)
        if checker.errors:
            return "invalid_blocks", checker.errors
    return None


def view_errors(view: Any) -> list[str]:
    """Problems in a modal or Home tab view (empty when Slack would accept it)."""
    checker = _Checker()
    if not isinstance(view, Mapping):
        return ["view must be an object"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("view/type", "must be modal or home")
    if kind == "modal":
        checker.text(view.get("title"), "view/title", 24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                checker.text(view[key], f"view/{key}", 24, plain_only=True)
    metadata = view.get("private_metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > 3000):
        checker.fail("view/private_metadata", "must be at most 3000 characters")
    for key in ("callback_id", "external_id"):
        checker.ident(view.get(key), f"view/{key}", None)
    checker.blocks(view.get("blocks", []), VIEW_BLOCKS)
    return checker.errors
