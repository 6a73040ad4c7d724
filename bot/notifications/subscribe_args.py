"""Parse ``/streamops subscribe|unsubscribe`` arguments (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import InvalidInput

PROVIDERS = ("streampixel", "streamstack", "streamapi")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,30})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,30})$")
_VALUE = re.compile(r"^[\w.:-]{1,128}$")


@dataclass(frozen=True)
class SubscribeArgs:
    """A parsed subscribe/unsubscribe request."""

    channel: str
    provider: str
    project: str | None = None
    events: tuple[str, ...] = ()


def parse_channel(text: str) -> str:
    """The channel id in ``<#C123|name>``, ``<#C123>`` or ``C123``.

    Raises:
        InvalidInput: anything else (a plain ``#name`` cannot be resolved without escaping).
    """
    match = _CHANNEL.match(text.strip())
    if not match:
        raise InvalidInput(
            f"'{text}' is not a channel: pick it with # so Slack sends its id, or give the id"
        )
    return match.group(1) or match.group(2)


def parse_subscribe(args: list[str], *, allow_events: bool = True) -> SubscribeArgs:
    """Parse ``<#channel> <provider> [project=…] [events=a,b]``.

    Raises:
        InvalidInput: naming the first bad argument.
    """
    if len(args) < 2:
        raise InvalidInput("give a channel and a provider")
    channel = parse_channel(args[0])
    provider = args[1].lower()
    if provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider '{args[1]}': use one of {', '.join(PROVIDERS)}")
    project: str | None = None
    events: tuple[str, ...] = ()
    for option in args[2:]:
        key, sep, value = option.partition("=")
        key = key.lower()
        if not sep or not value:
            raise InvalidInput(f"'{option}' is not an option: write project=… or events=…")
        if key == "project":
            if not _VALUE.match(value):
                raise InvalidInput(f"'{value}' is not a project id")
            project = value
        elif key == "events" and allow_events:
            names = tuple(e.strip().lower() for e in value.split(",") if e.strip())
            bad = [e for e in names if not _VALUE.match(e)]
            if bad or not names:
                raise InvalidInput(f"'{value}' is not a list of events")
            events = names
        else:
            raise InvalidInput(f"unknown option '{key}'")
    return SubscribeArgs(channel=channel, provider=provider, project=project, events=events)
