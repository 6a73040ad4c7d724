"""Hypothesis strategies for hostile user and provider text, and a checker for rendered mrkdwn.

Every renderer input is built from its type hints: strings are hostile
(Slack markup such as ``<!channel>``, ``<@U…>``, ``<https://…|links>``,
backticks, ampersands, line breaks, mixed with random text), except the
fields that hold ids Slack itself gave us (actors, channels), which come from
a small trusted set. :func:`unsolicited_markup` then lists every ``<…>`` token
in the output that the bot did not mean to put there.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

TRUSTED_USERS = ("UADMIN01", "W0TRUSTED")
TRUSTED_CHANNELS = ("C0TRUSTED", "G0PRIVATE")
ALLOWED_URLS = ("https://provider.example/watch/1", "http://provider.example/a?b=c&d=e")

HOSTILE_PARTS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0EVIL>",
    "<@U0EVIL>",
    "<@W0EVIL|boss>",
    "<#C0EVIL>",
    "<https://evil.example|click me>",
    "<http://evil.example>",
    "<mailto:x@evil.example|mail>",
    "https://evil.example/x|y",
    "`",
    "```",
    "&",
    "&lt;!here&gt;",
    "<",
    ">",
    "|",
    "*",
    "_",
    "~",
    "\n",
    "@channel",
)

hostile_text: st.SearchStrategy[str] = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PARTS), st.text(max_size=4)), max_size=6
).map("".join)

_USER_FIELDS = {"actor_id", "requested_by", "created_by", "admins"}
_CHANNEL_FIELDS = {"default_channel", "channel_id"}
_URL_FIELDS = {
    "url",
    "hls",
    "player",
    "thumbnail",
    "file_url",
    "player_url",
    "upload_url",
    "encoder_url",
}


def for_type(tp: Any, name: str = "", owner: type | None = None) -> st.SearchStrategy[Any]:
    """A strategy for a value of type ``tp`` held in field/parameter ``name``."""
    if name in _USER_FIELDS:
        return st.sampled_from(TRUSTED_USERS)
    if name in _CHANNEL_FIELDS or (name == "channel" and owner is not None):
        return st.sampled_from(TRUSTED_CHANNELS)
    if name == "action" and owner is not None and owner.__name__ == "QueuedResult":
        return st.sampled_from(["distribute", "rollback"])  # the bot's own vocabulary
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(for_type(a, name, owner) for a in args))
    if tp is type(None):
        return st.none()
    if tp is str:
        if name in _URL_FIELDS:
            return st.one_of(st.sampled_from(ALLOWED_URLS), hostile_text)
        return hostile_text
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(0, 10**6)
    if tp is float:
        return st.floats(0, 1e6, allow_nan=False)
    if tp is datetime:
        return st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
    if tp is timedelta:
        return st.timedeltas(timedelta(0), timedelta(days=30))
    if tp is Any:
        return hostile_text
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(for_type(args[0], name, owner), max_size=3).map(tuple)
        return st.tuples(*(for_type(a, name, owner) for a in args))
    if origin in (list, Sequence):
        item = args[0]
        if dataclasses.is_dataclass(item) and "id" in {f.name for f in dataclasses.fields(item)}:
            # Rows the database keys by id never repeat an id (renderers derive block_ids from it).
            return st.lists(for_type(item, name, owner), max_size=3, unique_by=lambda row: row.id)
        return st.lists(for_type(item, name, owner), max_size=3)
    if origin in (dict, Mapping):
        return st.dictionaries(hostile_text, for_type(args[1], name, owner), max_size=3)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {
            f.name: for_type(hints[f.name], f.name, tp) for f in dataclasses.fields(tp) if f.init
        }
        return st.builds(tp, **fields)
    if isinstance(tp, type) and hasattr(tp, "model_fields"):
        model_fields = tp.model_fields
        return st.builds(tp, **{k: for_type(f.annotation, k, tp) for k, f in model_fields.items()})
    raise TypeError(f"no hostile strategy for {tp!r} ({name})")


def mrkdwn_strings(rendered: Any) -> list[str]:
    """Every string in ``rendered`` that Slack parses as mrkdwn.

    A top-level string or the first string of a tuple is a message's fallback
    ``text`` (parsed like mrkdwn); in blocks, every ``{"type": "mrkdwn"}`` text.
    plain_text objects and button values are not parsed and are skipped.
    """
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key not in ("value", "private_metadata"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    if isinstance(rendered, str):
        found.append(rendered)
    elif isinstance(rendered, tuple):
        if rendered and isinstance(rendered[0], str):
            found.append(rendered[0])
        for part in rendered[1:]:
            walk(part)
    else:
        walk(rendered)
    return found


_TOKEN = re.compile(r"<([^<>]*)>")
_PERMALINK = re.compile(rf"https://slack\.com/archives/({'|'.join(TRUSTED_CHANNELS)})/p[0-9]+")
_DATE = re.compile(r"!date\^\d+\^\{[a-z_]+\}( \{[a-z_]+\})?\|[^|]*")


def unsolicited_markup(text: str) -> list[str]:
    """The ``<…>`` tokens in ``text`` the bot did not put there (empty when clean)."""
    bad = []
    for match in _TOKEN.finditer(text):
        inner = match.group(1)
        target = inner.split("|", 1)[0]
        if inner.startswith("@") and target[1:] in TRUSTED_USERS:
            continue
        if inner.startswith("#") and target[1:] in TRUSTED_CHANNELS:
            continue
        if _DATE.fullmatch(inner):
            continue
        if target in {u.replace("&", "&amp;") for u in ALLOWED_URLS}:
            continue
        if _PERMALINK.fullmatch(target):  # a message link the bot builds from a trusted channel
            continue
        bad.append(match.group(0))
    return bad
