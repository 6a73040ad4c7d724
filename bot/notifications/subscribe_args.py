"""Parse ``/streamops subscribe|unsubscribe`` arguments (pure).

``[#channel] <provider> [project=<name or id>] [events=a,b]``: the channel defaults to
the one the command was typed in; event names are checked against the events the
provider's notifications carry (:data:`PROVIDER_EVENTS`, the one list), in full
(``build.approved``) or by the part after a dot (``approved``), as routing matches
them. The project is resolved later, against the provider's project list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.mrkdwn import esc
from bot.notifications.types import PROVIDER_EVENTS

PROVIDERS = tuple(PROVIDER_EVENTS)
#: The only provider whose notifications carry a project (Streampixel's ``projectId``).
PROJECT_PROVIDERS = ("streampixel",)
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,30})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,30})$")
#: The longest project name or id accepted (the column holds 128 characters).
PROJECT_MAX = 128


@dataclass(frozen=True)
class SubscribeArgs:
    """A parsed subscribe/unsubscribe request.

    Attributes:
        project: the project as typed (a name or an id); resolved by the service.
    """

    channel: str
    provider: str
    project: str | None = None
    events: tuple[str, ...] = ()


class UnknownEvents(InvalidInput):
    """Event names no notification of the provider carries, with the valid ones.

    The message names no user text (render :attr:`unknown` escaped).
    """

    def __init__(self, provider: str, unknown: tuple[str, ...]) -> None:
        super().__init__(f"unknown event name for {provider}")
        self.provider = provider
        self.unknown = unknown
        self.valid = PROVIDER_EVENTS[provider]


def accepted_names(provider: str) -> frozenset[str]:
    """What ``events=`` may say for ``provider``: each full name and each part after a dot."""
    names: set[str] = set()
    for event in PROVIDER_EVENTS[provider]:
        names.add(event)
        names.update(event[i + 1 :] for i, c in enumerate(event) if c == ".")
    return frozenset(names)


def parse_channel(text: str) -> str:
    """The channel id in ``<#C123|name>``, ``<#C123>`` or ``C123``.

    Raises:
        InvalidInput: anything else (a plain ``#name`` cannot be resolved without escaping).
    """
    match = _CHANNEL.match(text.strip())
    if not match:
        raise InvalidInput(
            f"'{esc(text)}' is not a channel: pick it with # so Slack sends its id, or give the id"
        )
    return match.group(1) or match.group(2)


def _current(channel_id: str) -> str:
    if not _CHANNEL.match(channel_id):
        raise InvalidInput(
            "give a channel: notifications go to channels, and this is not one (a direct message?)"
        )
    return channel_id


def _split_channel(args: list[str], current_channel: str) -> tuple[str, list[str]]:
    """The channel (given first, or the current one) and the remaining arguments."""
    if args and (args[0].startswith(("#", "<#")) or _CHANNEL.match(args[0])):
        return parse_channel(args[0]), args[1:]
    return _current(current_channel), args


def parse_subscribe(
    args: list[str], *, current_channel: str, allow_events: bool = True
) -> SubscribeArgs:
    """Parse ``[<#channel>] <provider> [project=…] [events=a,b]``.

    Args:
        current_channel: the channel the command was typed in (used when none is given).

    Raises:
        InvalidInput: naming the first bad argument; :class:`UnknownEvents` for event
            names the provider never sends.
    """
    channel, rest = _split_channel(args, current_channel)
    if not rest:
        raise InvalidInput(f"give a provider: one of {', '.join(PROVIDERS)}")
    provider = rest[0].lower()
    if provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider '{esc(rest[0])}': use one of {', '.join(PROVIDERS)}")
    project: str | None = None
    events: tuple[str, ...] = ()
    for option in rest[1:]:
        key, sep, value = option.partition("=")
        key = key.lower()
        value = value.strip()
        if not sep or not value:
            raise InvalidInput(f"'{esc(option)}' is not an option: write project=… or events=…")
        if key == "project":
            project = _project(provider, value)
        elif key == "events" and allow_events:
            events = _events(provider, value)
        else:
            raise InvalidInput(f"unknown option '{esc(key)}'")
    return SubscribeArgs(channel=channel, provider=provider, project=project, events=events)


def _project(provider: str, value: str) -> str:
    if provider not in PROJECT_PROVIDERS:
        raise InvalidInput(
            f"{provider} notifications carry no project, so project= could never match: "
            "leave it out"
        )
    if len(value) > PROJECT_MAX or not value.isprintable():
        raise InvalidInput("that is not a project name or id")
    return value


def _events(provider: str, value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(e.strip().lower() for e in value.split(",") if e.strip()))
    if not names:
        raise InvalidInput("events= needs event names, separated by commas")
    accepted = accepted_names(provider)
    unknown = tuple(e for e in names if e not in accepted)
    if unknown:
        raise UnknownEvents(provider, unknown)
    return names
