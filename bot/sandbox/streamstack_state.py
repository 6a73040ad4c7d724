"""State of the StreamStack simulator: tenants, media, pipelines, webhooks.

Everything the HTTP layer (:mod:`bot.sandbox.streamstack`) does goes through
:class:`StreamStackSimulator`, so tests and the demo can inspect and drive the
same state: read :attr:`~StreamStackSimulator.deliveries`, fail the next
transcode, make the next requests answer 500, or wait for pipelines to settle.
Unknowns follow providers.md §2.4 (S1 to S14).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Transcode profiles StreamStack produces for a 1080p source (SS-docs profile table).
PROFILES_1080P = ("1080p", "720p", "480p", "360p")
PERIODS = ("15m", "1h", "6h", "24h", "7d", "30d", "3m", "6m", "1y", "all")
_PERIOD_SCALE = dict(zip(PERIODS, (1, 3, 12, 40, 200, 700, 1800, 3200, 6000, 9000), strict=True))
SIGNATURE_HEADER = "X-StreamStack-Signature"
EVENT_HEADER = "X-StreamStack-Event"

#: Demo API keys (sandbox only): two tenants, so cross-tenant 403s can be tried.
DEMO_API_KEY = "ss_sandbox_acme_key"
OTHER_TENANT_API_KEY = "ss_sandbox_globex_key"


def iso(ts: float) -> str:
    """An ISO 8601 UTC timestamp (``...Z``) for a clock reading."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sign(body: bytes, secret: str) -> str:
    """The ``X-StreamStack-Signature`` value of a webhook body (S12)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class StageDelays:
    """Seconds each pipeline stage takes (0 in tests, a few seconds in the demo)."""

    transcode: float = 3.0
    publish: float = 1.0


@dataclass
class SimMedia:
    """One stored video."""

    uuid: str
    tenant: str
    title: str
    status: str
    created_at: float
    updated_at: float
    filename: str | None = None
    content_type: str | None = None
    source_url: str | None = None
    upload_token: str | None = None
    upload_expires: float | None = None
    size: int | None = None
    duration: float | None = None
    resolution: str | None = None
    profiles: tuple[str, ...] = ()

    def to_json(self, base: str) -> dict[str, Any]:
        """The S3 media object, with URLs on ``base`` (the simulator's own origin)."""
        ready = self.status in ("transcoded", "published")
        return {
            "uuid": self.uuid,
            "title": self.title,
            "status": self.status,
            "duration": self.duration,
            "resolution": self.resolution,
            "profiles": list(self.profiles),
            "urls": {
                "hls": f"{base}/hls/{self.uuid}/master.m3u8" if ready else None,
                "player": f"{base}/player/{self.uuid}",
                "thumbnail": f"{base}/thumbnails/{self.uuid}.jpg" if ready else None,
            },
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook POST the simulator made (or tried to make; no retries, S13)."""

    event: str
    uuid: str
    body: bytes
    headers: Mapping[str, str]
    status_code: int | None
    error: str | None = None

    def payload(self) -> Any:
        """The decoded JSON body."""
        return json.loads(self.body)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class StreamStackSimulator:
    """A stateful StreamStack: tenants by API key, media, webhooks, a rate limit.

    Args:
        tenants: API key → tenant name (each key is scoped to one tenant).
        clock: wall-clock seconds; drives timestamps, expiry and the token bucket.
        sleep: awaited between pipeline stages.
        delays: how long transcode and publish take.
        webhook_url: where events are POSTed (none sent when ``None``).
        webhook_secret: when set, sign bodies with ``X-StreamStack-Signature`` (S12).
        webhook_transport: optional transport for webhook POSTs (tests).
        rate_per_second: token-bucket rate and burst per key (S10).
        max_upload_bytes: larger presigned uploads get 413.
        max_body_bytes: larger JSON request bodies get 413.
    """

    tenants: dict[str, str] = field(default_factory=dict)
    clock: Clock = time.time
    sleep: Sleep = asyncio.sleep
    delays: StageDelays = field(default_factory=StageDelays)
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_transport: httpx.AsyncBaseTransport | None = None
    rate_per_second: float = 30.0
    max_upload_bytes: int = 512 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024
    media: dict[str, SimMedia] = field(default_factory=dict, repr=False)
    deliveries: list[WebhookDelivery] = field(default_factory=list, repr=False)
    _buckets: dict[str, _Bucket] = field(default_factory=dict, repr=False)
    _fail_requests: list[int] = field(default_factory=list, repr=False)
    _fail_transcodes: int = field(default=0, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, repr=False)
    _http: httpx.AsyncClient | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"StreamStackSimulator(tenants={sorted(set(self.tenants.values()))!r})"

    @classmethod
    def with_demo_data(
        cls, *, webhook_url: str | None = None, webhook_secret: str | None = None, **kwargs: Any
    ) -> StreamStackSimulator:
        """A simulator with two tenants and a few realistic videos.

        Keys: :data:`DEMO_API_KEY` (tenant ``acme``: one published, one failed,
        one still processing) and :data:`OTHER_TENANT_API_KEY` (tenant ``globex``:
        one published video).
        """
        sim = cls(
            tenants={DEMO_API_KEY: "acme", OTHER_TENANT_API_KEY: "globex"},
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            **kwargs,
        )
        now = sim.clock()
        sim.seed_media("acme", "Product launch keynote", status="published", at=now - 86400 * 3)
        sim.seed_media("acme", "Onboarding walkthrough", status="failed", at=now - 86400)
        sim.seed_media("acme", "Quarterly all-hands", status="processing", at=now - 600)
        sim.seed_media("globex", "Globex factory tour", status="published", at=now - 7200)
        return sim

    # -- state helpers -----------------------------------------------------

    def seed_media(
        self, tenant: str, title: str, *, status: str = "published", at: float | None = None
    ) -> SimMedia:
        """Store a video directly (no pipeline, no webhooks) and return it."""
        ts = self.clock() if at is None else at
        media = SimMedia(
            uuid=str(uuidlib.uuid4()), tenant=tenant, title=title, status=status,
            created_at=ts, updated_at=ts, filename=f"{title.lower().replace(' ', '-')}.mp4",
            content_type="video/mp4",
        )  # fmt: skip
        if status in ("transcoded", "published"):
            self._finish_transcode(media)
        self.media[media.uuid] = media
        return media

    def tenant_of(self, api_key: str) -> str | None:
        """The tenant an API key belongs to, compared in constant time."""
        for key, tenant in self.tenants.items():
            if hmac.compare_digest(key.encode(), api_key.encode()):
                return tenant
        return None

    def list_for(self, tenant: str) -> list[SimMedia]:
        """A tenant's videos, newest first."""
        own = [m for m in self.media.values() if m.tenant == tenant]
        return sorted(own, key=lambda m: (m.created_at, m.uuid), reverse=True)

    def create_media(
        self, tenant: str, title: str, *, filename: str | None = None,
        content_type: str | None = None, source_url: str | None = None,
    ) -> SimMedia:  # fmt: skip
        """A new video in ``uploading`` state."""
        now = self.clock()
        media = SimMedia(
            uuid=str(uuidlib.uuid4()), tenant=tenant, title=title, status="uploading",
            created_at=now, updated_at=now, filename=filename, content_type=content_type,
            source_url=source_url, upload_token=secrets.token_urlsafe(24),
            upload_expires=now + 3600,
        )  # fmt: skip
        self.media[media.uuid] = media
        return media

    def allow_request(self, api_key: str) -> bool:
        """Take one token from the key's bucket (30/s, burst 30); False when empty."""
        now = self.clock()
        bucket = self._buckets.get(api_key)
        if bucket is None:
            bucket = self._buckets[api_key] = _Bucket(self.rate_per_second, now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self.rate_per_second, bucket.tokens + elapsed * self.rate_per_second)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def fail_next_requests(self, count: int = 1, status: int = 500) -> None:
        """Make the next ``count`` authenticated API requests answer ``status``."""
        self._fail_requests.extend([status] * count)

    def take_injected_failure(self) -> int | None:
        """The status of an injected failure to serve now, if one is queued."""
        return self._fail_requests.pop(0) if self._fail_requests else None

    def fail_next_transcode(self, count: int = 1) -> None:
        """Make the next ``count`` pipelines end in ``media.failed``."""
        self._fail_transcodes += count

    def stats_for(self, media: SimMedia, period: str) -> dict[str, Any]:
        """Deterministic S7 statistics; a video not yet published has none."""
        seed = hashlib.sha256(f"{media.uuid}:{period}".encode()).digest()
        views = 0
        if media.status == "published":
            views = _PERIOD_SCALE[period] * (5 + seed[0] % 20)
        split = _split(views, seed)
        return {
            "uuid": media.uuid,
            "period": period,
            "views": views,
            "watching_now": min(views, seed[1] % 7),
            "avg_watch_time": round(20 + seed[2] % 200 + seed[3] / 256, 1) if views else 0,
            "completion_rate": round(30 + (seed[4] % 60) + seed[5] / 256, 1) if views else 0,
            "quality": dict(zip(media.profiles, split(len(media.profiles)), strict=True)),
            "devices": dict(zip(("desktop", "mobile", "tablet", "tv"), split(4), strict=True)),
            "browsers": dict(zip(("Chrome", "Safari", "Firefox", "Edge"), split(4), strict=True)),
            "geo": dict(zip(("IT", "US", "DE", "ES", "FR"), split(5), strict=True)),
        }

    # -- pipeline and webhooks ----------------------------------------------

    def start_pipeline(self, media: SimMedia, base: str) -> None:
        """Mark the upload received and run transcode → publish in the background."""
        media.status = "processing"
        media.updated_at = self.clock()
        fail = self._fail_transcodes > 0
        if fail:
            self._fail_transcodes -= 1
        task = asyncio.create_task(self._pipeline(media, base, fail))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pipeline(self, media: SimMedia, base: str, fail: bool) -> None:
        await self.emit("media.uploaded", media, base)
        await self.sleep(self.delays.transcode)
        if media.uuid not in self.media:
            return
        media.updated_at = self.clock()
        if fail:
            media.status = "failed"
            await self.emit("media.failed", media, base)
            return
        self._finish_transcode(media)
        media.status = "transcoded"
        await self.emit("media.transcoded", media, base)
        await self.sleep(self.delays.publish)
        if media.uuid not in self.media:
            return
        media.status = "published"
        media.updated_at = self.clock()
        await self.emit("media.published", media, base)

    @staticmethod
    def _finish_transcode(media: SimMedia) -> None:
        seed = hashlib.sha256(media.uuid.encode()).digest()
        media.duration = round(30 + int.from_bytes(seed[:2], "big") % 1800 + seed[2] / 256, 2)
        media.resolution = "1920x1080"
        media.profiles = PROFILES_1080P

    async def emit(self, event: str, media: SimMedia, base: str) -> WebhookDelivery | None:
        """POST one S11 event to the webhook URL (once) and record the outcome."""
        if not self.webhook_url:
            return None
        body = json.dumps(
            {"event": event, "uuid": media.uuid, "data": media.to_json(base),
             "timestamp": iso(self.clock())},
            separators=(",", ":"),
        ).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", EVENT_HEADER: event}
        if self.webhook_secret:
            headers[SIGNATURE_HEADER] = sign(body, self.webhook_secret)
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client().post(self.webhook_url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        delivery = WebhookDelivery(event, media.uuid, body, headers, status, error)
        self.deliveries.append(delivery)
        return delivery

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0, transport=self.webhook_transport)
        return self._http

    async def wait_idle(self) -> None:
        """Wait until every running pipeline has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel running pipelines and close the webhook client (app shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _split(total: int, seed: bytes) -> Callable[[int], list[int]]:
    """A function splitting ``total`` into ``n`` deterministic non-negative parts."""

    def parts(n: int) -> list[int]:
        if n == 0:
            return []
        weights = [1 + seed[(6 + i) % len(seed)] for i in range(n)]
        shares = [total * w // sum(weights) for w in weights]
        shares[0] += total - sum(shares)
        return shares

    return parts
