"""Inbound StreamStack webhooks: optional signature check and typed events.

StreamStack does not document webhook signing (providers.md S12), so the bot
protects its endpoint with a secret path token and, when a signing secret is
configured, also requires ``X-StreamStack-Signature: sha256=<hex HMAC of the
raw body>``. Payloads follow S11: ``{"event", "uuid", "data": {Media}, "timestamp"}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import AuthFailed, InvalidRequest
from bot.providers.streamstack_models import MalformedReply, Media, parse_media

PROVIDER = "streamstack"
SIGNATURE_HEADER = "X-StreamStack-Signature"
#: The four documented events.
EVENTS = ("media.uploaded", "media.transcoded", "media.published", "media.failed")


@dataclass(frozen=True)
class MediaEvent:
    """One StreamStack webhook event."""

    event: str
    uuid: str
    media: Media | None
    timestamp: datetime | None


def signature_of(body: bytes, secret: str) -> str:
    """The expected signature header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    """Check the signature header against the raw body, in constant time.

    Raises:
        AuthFailed: the header is missing or does not match.
    """
    if not header or not hmac.compare_digest(header.strip(), signature_of(body, secret)):
        raise AuthFailed(PROVIDER, "webhook signature missing or invalid")


def parse_event(body: bytes) -> MediaEvent:
    """A :class:`MediaEvent` from a raw webhook body.

    Unknown event names are refused; a missing or partial ``data`` object still
    yields the event (``media`` is then ``None``).

    Raises:
        InvalidRequest: the body is not JSON, names no known event, or has no uuid.
    """
    try:
        payload: Any = json.loads(body)
    except ValueError:
        raise InvalidRequest(PROVIDER, "webhook body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidRequest(PROVIDER, "webhook body is not a JSON object")
    event = payload.get("event")
    if event not in EVENTS:
        raise InvalidRequest(PROVIDER, "unknown webhook event")
    media: Media | None
    try:
        media = parse_media(payload.get("data"))
    except MalformedReply:
        media = None
    uuid = payload.get("uuid") if isinstance(payload.get("uuid"), str) else None
    uuid = uuid or (media.uuid if media else None)
    if not uuid:
        raise InvalidRequest(PROVIDER, "webhook event has no uuid")
    stamp = payload.get("timestamp")
    timestamp = None
    if isinstance(stamp, str):
        try:
            timestamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            timestamp = None
    return MediaEvent(event=str(event), uuid=uuid, media=media, timestamp=timestamp)
