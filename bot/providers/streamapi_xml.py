"""Reading StreamAPI's XML replies safely and turning them into typed results.

Replies are parsed with :mod:`defusedxml`: a reply carrying a DTD or entity
declarations (an "XML bomb", external entities) is refused, never expanded.
The root element's name is undocumented, so only its children are read.
The XML parser (ElementTree, expat, defusedxml: ~0.7 MB resident) is imported
by the first reply parsed, not by ``streamops serve`` at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.errors import (
    AuthFailed,
    Forbidden,
    InvalidRequest,
    ProviderError,
    ProviderNotFound,
    ProviderUnavailable,
)
from bot.providers.streamapi_models import HostIds, LiveSession, Theme, Video
from bot.redact import redact

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

PROVIDER = "streamapi"

#: The documented status codes and their messages.
CODE_MESSAGES: dict[int, str] = {
    1: "Missing required parameter(s)",
    8: "No user found",
    46: "No session found",
    100: "Unknown Error",
    200: "Invalid API key",
    201: "Cannot request this call for user that was not created by API caller",
    202: "Invalid sig (or signature) value",
    203: "Invalid request ID value",
}

_CODE_ERRORS: dict[int, type[ProviderError]] = {
    1: InvalidRequest,
    8: ProviderNotFound,
    46: ProviderNotFound,
    100: ProviderUnavailable,
    200: AuthFailed,
    201: Forbidden,
    202: AuthFailed,
    203: InvalidRequest,
}


def parse_reply(body: bytes, *, status: int | None = None) -> Element:
    """Parse a reply body, refusing DTDs and entities.

    Args:
        body: the raw HTTP body.
        status: the HTTP status, carried on the error.

    Raises:
        ProviderUnavailable: the body declares a DTD or entities, or is not XML.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root: Element = fromstring(body, forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException:
        raise ProviderUnavailable(
            PROVIDER, "reply refused: it declares a DTD or entities", status=status
        ) from None
    except ParseError:
        raise ProviderUnavailable(PROVIDER, "reply is not well-formed XML", status=status) from None
    return root


def reply_code(root: Element, *, status: int | None = None) -> int:
    """The reply's ``<code>`` (0 means success).

    Raises:
        ProviderUnavailable: there is no integer ``<code>``.
    """
    text = root.findtext("code")
    if text is None:
        text = root.findtext(".//code")
    try:
        return int((text or "").strip())
    except ValueError:
        raise ProviderUnavailable(PROVIDER, "reply has no status code", status=status) from None


def error_for_code(
    code: int, message: str | None, *, status: int | None = None, secrets: Iterable[str] = ()
) -> ProviderError:
    """The shared error class for a StreamAPI error code, keeping ``code``.

    Args:
        code: the non-zero ``<code>``.
        message: the reply's ``<msg>``; the documented meaning is used when absent.
        status: the HTTP status, if any.
        secrets: values masked out of the message should the provider echo them.
    """
    words = (message or "").strip() or CODE_MESSAGES.get(code, f"error code {code}")
    cls = _CODE_ERRORS.get(code, ProviderUnavailable)
    return cls(PROVIDER, redact(words, secrets), status=status, code=code)


def check(root: Element, *, status: int | None = None, secrets: Iterable[str] = ()) -> Element:
    """Return ``root`` if its code is 0, else raise the mapped error."""
    code = reply_code(root, status=status)
    if code != 0:
        raise error_for_code(code, root.findtext("msg"), status=status, secrets=secrets)
    return root


def _text(element: Element, name: str) -> str | None:
    value = element.findtext(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _int(element: Element, name: str) -> int | None:
    value = _text(element, name)
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _ms_datetime(element: Element, name: str) -> datetime | None:
    value = _int(element, name)
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


def _seconds(element: Element, name: str) -> timedelta | None:
    value = _int(element, name)
    return None if value is None else timedelta(seconds=value)


def _required(element: Element, name: str) -> str:
    value = _text(element, name)
    if value is None:
        raise ProviderUnavailable(PROVIDER, f"reply lacks <{name}>")
    return value


def host_ids(root: Element) -> HostIds:
    """Both host ids from a create or look-up reply."""
    return HostIds(
        public_hostid=_required(root, "public_hostid"),
        private_hostid=_required(root, "private_hostid"),
    )


def live_session(element: Element, *, is_live: bool | None = None) -> LiveSession:
    """A live session from ``/session/live`` (its root) or a list ``<session>``."""
    if is_live is None:
        is_live = (_text(element, "is_live") or "").lower() == "true"
    return LiveSession(
        public_hostid=_required(element, "public_hostid"),
        is_live=is_live,
        private_hostid=_text(element, "private_hostid"),
        username=_text(element, "username"),
        start_time=_ms_datetime(element, "start_time"),
        duration=_seconds(element, "duration"),
        channel_id=_text(element, "channel_id"),
        current_viewers=_int(element, "current_viewers"),
        current_chatters=_int(element, "current_chatters"),
        total_viewers=_int(element, "total_viewers"),
        total_chatters=_int(element, "total_chatters"),
        max_viewers=_int(element, "max_viewers"),
        max_chatters=_int(element, "max_chatters"),
    )


def live_sessions(root: Element) -> list[LiveSession]:
    """Every ``<session>`` of a ``/session/live/list`` reply (all of them are live)."""
    return [live_session(item, is_live=True) for item in root.iter("session")]


def videos(root: Element) -> list[Video]:
    """Every ``<video id=…>`` of a ``/video/list`` reply."""
    result = []
    for item in root.iter("video"):
        created = _ms_datetime(item, "creation_date")
        video_id = item.get("id") or _text(item, "id")
        if created is None or video_id is None:
            raise ProviderUnavailable(PROVIDER, "reply has a video without id or creation_date")
        result.append(
            Video(
                id=video_id,
                creation_date=created,
                public_hostid=_text(item, "public_hostid"),
                duration=_seconds(item, "duration"),
                channel_id=_text(item, "channel_id"),
                filename=_text(item, "filename"),
                size=_int(item, "size"),
                url=_text(item, "url"),
                embed_code=_text(item, "embed_code"),
            )
        )
    return result


def themes(root: Element) -> list[Theme]:
    """Every ``<theme id=…>`` of a ``/theme/list`` reply."""
    result = []
    for item in root.iter("theme"):
        theme_id = item.get("id") or _text(item, "id")
        if theme_id is None:
            raise ProviderUnavailable(PROVIDER, "reply has a theme without id")
        result.append(
            Theme(
                id=theme_id,
                name=_text(item, "name") or "",
                width=_int(item, "width"),
                height=_int(item, "height"),
                layout_path=_text(item, "layout_path"),
                skin_path=_text(item, "skin_path"),
            )
        )
    return result
