"""Typed results of the StreamStack client, parsed defensively from JSON.

StreamStack documents the fields it returns but not their exact shape
(providers.md §2.4, S2 to S7), so every parser here tolerates extra fields,
missing optional fields, numbers sent as strings, and lists wrapped in
``{"data": [...]}`` or sent as a bare top-level array.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bot.storable import storable
from storage import lengths

#: The ten statistics periods StreamStack accepts (``?period=``), shortest first.
PERIODS: tuple[str, ...] = ("15m", "1h", "6h", "24h", "7d", "30d", "3m", "6m", "1y", "all")

Period = Literal["15m", "1h", "6h", "24h", "7d", "30d", "3m", "6m", "1y", "all"]

#: Media life cycle (S4): uploading → processing → transcoded → published, or failed.
MEDIA_STATUSES: tuple[str, ...] = ("uploading", "processing", "transcoded", "published", "failed")


@dataclass(frozen=True)
class MediaUrls:
    """Where a video can be played or previewed (any may be unknown)."""

    hls: str | None = None
    player: str | None = None
    thumbnail: str | None = None


@dataclass(frozen=True)
class Media:
    """One video of the tenant (S3)."""

    uuid: str
    title: str
    status: str
    duration: float | None = None
    resolution: str | None = None
    profiles: tuple[str, ...] = ()
    urls: MediaUrls = field(default_factory=MediaUrls)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class MediaPage:
    """One page of ``GET /api/v1/media`` with its pagination meta (S2)."""

    items: tuple[Media, ...]
    current_page: int
    per_page: int
    total: int
    last_page: int

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        return self.current_page < self.last_page


@dataclass(frozen=True)
class PresignedUpload:
    """A direct-upload target for a new video (S5).

    The upload URL is a capability (anyone holding it may upload), so it is
    kept out of the repr.
    """

    uuid: str
    upload_url: str = field(repr=False)
    method: str = "PUT"
    headers: Mapping[str, str] = field(default_factory=dict)
    expires_in: int | None = None


@dataclass(frozen=True)
class VideoStats:
    """Viewing statistics of one video over one period (S7)."""

    uuid: str
    period: str
    views: int
    watching_now: int
    avg_watch_time: float
    completion_rate: float
    quality: Mapping[str, int] = field(default_factory=dict)
    devices: Mapping[str, int] = field(default_factory=dict)
    browsers: Mapping[str, int] = field(default_factory=dict)
    geo: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Embed:
    """The player URL of a video and the iframe snippet that embeds it."""

    url: str
    iframe: str


class MalformedReply(ValueError):
    """A reply lacked what the caller needs (turned into ProviderUnavailable)."""


def unwrap(payload: Any) -> Any:
    """The object inside a ``{"data": ...}`` envelope, or ``payload`` itself."""
    if isinstance(payload, dict) and "data" in payload and len(payload) <= 2:
        inner = payload["data"]
        if isinstance(inner, dict | list):
            return inner
    return payload


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any, default: int = 0) -> int:
    number = _float(value)
    return default if number is None else int(number)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): _int(v) for k, v in value.items() if _float(v) is not None}


def _text(value: Any) -> str:
    return _str(value) or ""


class _MediaReply(BaseModel):
    """One media object as StreamStack sends it (S3), read leniently but stored safely.

    The uuid is stored (``webhook_deliveries.subject`` by reconciliation, the subject
    key) and the title too (``pending_deletes.title``): both must be text a column
    can hold (:func:`bot.storable.storable`), the uuid no longer than
    :data:`storage.lengths.VIDEO_ID`. Everything else is shown only and is read as
    before: numbers as strings, odd types dropped.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)

    uuid: Annotated[
        str,
        StringConstraints(min_length=1, max_length=lengths.VIDEO_ID),
        AfterValidator(storable),
    ]
    title: Annotated[str, BeforeValidator(_text), AfterValidator(storable)] = ""
    status: Annotated[str, BeforeValidator(lambda v: _str(v) or "unknown")] = "unknown"
    duration: Annotated[float | None, BeforeValidator(_float)] = None
    resolution: Annotated[str | None, BeforeValidator(_str)] = None
    profiles: Annotated[
        tuple[str, ...], BeforeValidator(lambda v: tuple(p for p in map(_str, _list(v)) if p))
    ] = ()
    urls: Annotated[dict[str, Any], BeforeValidator(_dict)] = {}
    created_at: Annotated[datetime | None, BeforeValidator(_datetime)] = None
    updated_at: Annotated[datetime | None, BeforeValidator(_datetime)] = None

    @model_validator(mode="before")
    @classmethod
    def _id_is_uuid(cls, raw: Any) -> Any:
        """``id`` stands for a missing ``uuid``; a number is read as its digits."""
        if isinstance(raw, dict):
            uuid = _str(raw.get("uuid") or raw.get("id"))
            return {**raw, "uuid": uuid or ""}
        return raw


def parse_media(raw: Any) -> Media:
    """A :class:`Media` from one media object (or its ``data`` envelope).

    Raises:
        MalformedReply: the object has no uuid, or a uuid or title no column can
            hold (too long, a NUL or a lone surrogate).
    """
    raw = unwrap(raw)
    if not isinstance(raw, dict):
        raise MalformedReply("media object is not a JSON object")
    if not _str(raw.get("uuid") or raw.get("id")):
        raise MalformedReply("media object has no uuid")
    try:
        media = _MediaReply.model_validate(raw)
    except ValidationError as exc:
        field = ".".join(map(str, exc.errors()[0]["loc"])) or "object"
        raise MalformedReply(f"media object has an unusable {field}") from None
    return Media(
        uuid=media.uuid,
        title=media.title,
        status=media.status,
        duration=media.duration,
        resolution=media.resolution,
        profiles=media.profiles,
        urls=MediaUrls(
            hls=_str(media.urls.get("hls")),
            player=_str(media.urls.get("player")),
            thumbnail=_str(media.urls.get("thumbnail")),
        ),
        created_at=media.created_at,
        updated_at=media.updated_at,
    )


def parse_media_page(payload: Any, *, page: int, per_page: int) -> MediaPage:
    """A :class:`MediaPage` from a list reply, paginated or not.

    A bare array (or a ``data`` list without ``meta``) is taken as the only
    page. Entries that are not media objects with a uuid are skipped.

    Raises:
        MalformedReply: the reply holds no list of media at all.
    """
    meta: dict[str, Any] = {}
    if isinstance(payload, dict):
        meta = _dict(payload.get("meta"))
        rows = payload.get("data")
    else:
        rows = payload
    if not isinstance(rows, list):
        raise MalformedReply("media list is not a JSON array")
    items = []
    for row in rows:
        try:
            items.append(parse_media(row))
        except MalformedReply:
            continue
    current = _int(meta.get("current_page"), page)
    size = _int(meta.get("per_page"), per_page if meta else max(len(rows), 1))
    total = _int(meta.get("total"), len(rows) if not meta else 0)
    last = _int(meta.get("last_page"), current if not meta else 0)
    if meta and not last:
        last = max(1, -(-total // size)) if size > 0 else current
    return MediaPage(
        items=tuple(items), current_page=current, per_page=size, total=total, last_page=last
    )


def parse_presign(payload: Any) -> PresignedUpload:
    """A :class:`PresignedUpload` from the presign reply.

    Raises:
        MalformedReply: the reply lacks the uuid or the upload URL.
    """
    raw = unwrap(payload)
    if not isinstance(raw, dict):
        raise MalformedReply("presign reply is not a JSON object")
    uuid = _str(raw.get("uuid"))
    upload_url = _str(raw.get("upload_url") or raw.get("url"))
    if not uuid or not upload_url:
        raise MalformedReply("presign reply lacks uuid or upload_url")
    headers = _dict(raw.get("headers"))
    expires = _float(raw.get("expires_in"))
    return PresignedUpload(
        uuid=uuid,
        upload_url=upload_url,
        method=(_str(raw.get("method")) or "PUT").upper(),
        headers={str(k): str(v) for k, v in headers.items()},
        expires_in=None if expires is None else int(expires),
    )


def parse_stats(payload: Any, *, uuid: str, period: str) -> VideoStats:
    """A :class:`VideoStats` from the stats reply; missing numbers read as zero.

    Raises:
        MalformedReply: the reply is not a JSON object.
    """
    raw = unwrap(payload)
    if not isinstance(raw, dict):
        raise MalformedReply("stats reply is not a JSON object")
    return VideoStats(
        uuid=_str(raw.get("uuid")) or uuid,
        period=_str(raw.get("period")) or period,
        views=_int(raw.get("views")),
        watching_now=_int(raw.get("watching_now")),
        avg_watch_time=_float(raw.get("avg_watch_time")) or 0.0,
        completion_rate=_float(raw.get("completion_rate")) or 0.0,
        quality=_counts(raw.get("quality")),
        devices=_counts(raw.get("devices")),
        browsers=_counts(raw.get("browsers")),
        geo=_counts(raw.get("geo")),
    )
