"""State of the Streampixel simulator: accounts, projects, builds, pipeline, webhooks.

The HTTP surface lives in :mod:`bot.sandbox.streampixel`; this module holds what
it acts on, plus the knobs tests and the demo turn (clock, stage timings, forced
failures, live user counts) and what they inspect (webhook deliveries).

Pipeline (providers.md P1-P3, P14): ``build.uploaded`` → ``downloading`` →
``extracting`` → ``saving`` → (``distributing`` when ``autoRelease``) →
``approved``. A forced failure rejects the build at the end of its stage;
a rejected build never emits ``build.distributing``. Webhooks are POSTed once,
unsigned, with a 10 s timeout, and every attempt is recorded (P4, P5).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.sandbox.streampixel_models import (
    DEMO_API_KEY,
    DEMO_OTHER_API_KEY,
    DEMO_OTHER_USER_ID,
    DEMO_READONLY_API_KEY,
    DEMO_READONLY_USER_ID,
    DEMO_USER_ID,
    EVENT_STATUS,
    FAILABLE_STAGES,
    RATE_LIMIT_SECONDS,
    WEBHOOK_TIMEOUT,
    Account,
    SimError,
    SimProject,
    StageTimings,
    Upload,
    WebhookDelivery,
)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class _Failure:
    stage: str
    objection: str


@dataclass
class _ServerFault:
    remaining: int
    status: int
    message: str


@dataclass(eq=False)
class StreampixelSimulator:
    """Everything the simulated Streampixel knows, and the knobs to drive it.

    Args:
        clock: wall-clock seconds, used for rate limits, ids and timestamps.
        timings: how long each pipeline stage takes.
        sleep: how the pipeline waits (inject to make stages instant or observable).
        webhook_transport: an alternative transport for webhook POSTs.
        seed: makes generated ids reproducible.
        rate_limit_seconds: the upload/distribute window per account (Streampixel's 120 s;
            the demo shortens it so a rollback need not wait two minutes).
    """

    clock: Clock = time.time
    timings: StageTimings = field(default_factory=StageTimings)
    sleep: Sleep = asyncio.sleep
    webhook_transport: httpx.AsyncBaseTransport | None = None
    seed: int | None = None
    rate_limit_seconds: float = RATE_LIMIT_SECONDS
    accounts: dict[str, Account] = field(default_factory=dict)
    projects: dict[str, SimProject] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # ids, not secrets
        self._counter = self._random.randrange(1 << 24)
        self._last_call: dict[tuple[str, str], float] = {}
        self._failures: list[_Failure] = []
        self._fault: _ServerFault | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._webhook_client: httpx.AsyncClient | None = None

    # -- building state ----------------------------------------------------

    @classmethod
    def with_demo_data(cls, webhook_url: str | None = None, **kwargs: Any) -> StreampixelSimulator:
        """A simulator seeded with the documented example account and projects.

        The owner is :data:`DEMO_USER_ID` / :data:`DEMO_API_KEY`. "Showroom Demo"
        is enabled and has an approved, live build; "Configurator EU" is disabled
        (403 "Access denied"); "Retail Walkthrough" is enabled with no builds. A
        READONLY team-member key on "Showroom Demo"
        (:data:`DEMO_READONLY_USER_ID`) and a second account owning "Partner Gallery"
        exist too.

        Args:
            webhook_url: where every demo project sends its webhooks.
            kwargs: passed to the constructor (clock, timings, ...).
        """
        sim = cls(**kwargs)
        sim.add_account(DEMO_USER_ID, DEMO_API_KEY)
        sim.add_account(
            DEMO_READONLY_USER_ID,
            DEMO_READONLY_API_KEY,
            readonly=True,
            member_of=("664f1a2b3c4d5e6f7a8b9c0d",),
        )
        sim.add_account(DEMO_OTHER_USER_ID, DEMO_OTHER_API_KEY)
        showroom = sim.add_project(
            DEMO_USER_ID,
            "Showroom Demo",
            project_id="664f1a2b3c4d5e6f7a8b9c0d",
            webhook_url=webhook_url,
            live_users=7,
            queue_users=2,
        )
        sim.add_project(
            DEMO_USER_ID,
            "Configurator EU",
            project_id="664f1a2b3c4d5e6f7a8b9c0e",
            enabled=False,
            region="europe",
            webhook_url=webhook_url,
        )
        sim.add_project(
            DEMO_USER_ID,
            "Retail Walkthrough",
            project_id="664f1a2b3c4d5e6f7a8b9c0f",
            region="us-east-1",
            webhook_url=webhook_url,
            live_users=1,
        )
        sim.add_project(
            DEMO_OTHER_USER_ID, "Partner Gallery", project_id="664f1a2b3c4d5e6f7a8b9c10"
        )
        build = sim.add_upload(
            showroom.id,
            "https://builds.example.com/showroom/v1.1.8.zip",
            upload_id="665a2b3c4d5e6f7a8b9c0e1f",
        )
        showroom.live_upload_id = build.id
        sim.add_upload(
            showroom.id,
            "https://builds.example.com/showroom/v1.1.9.zip",
            upload_id="665a2b3c4d5e6f7a8b9c0e20",
            status="Reject",
            objection="Build contains unsupported file formats.",
        )
        return sim

    def new_id(self) -> str:
        """A fresh 24-hex id shaped like a MongoDB ObjectId."""
        self._counter = (self._counter + 1) % (1 << 24)
        seconds = int(self.clock()) & 0xFFFFFFFF
        return f"{seconds:08x}{self._random.getrandbits(40):010x}{self._counter:06x}"

    def add_account(
        self,
        user_id: str,
        api_key: str,
        *,
        readonly: bool = False,
        member_of: tuple[str, ...] = (),
    ) -> Account:
        """Register a user id with its API key (and team memberships)."""
        account = Account(user_id, api_key, readonly, set(member_of))
        self.accounts[user_id] = account
        return account

    def rotate_key(self, user_id: str) -> str:
        """Issue a new key for ``user_id``; the old one stops working at once."""
        new_key = f"spx_{self._random.getrandbits(128):032x}"
        self.accounts[user_id].api_key = new_key
        return new_key

    def add_project(
        self, owner: str, name: str, *, project_id: str | None = None, **fields: Any
    ) -> SimProject:
        """Create a project owned by ``owner`` (fields as in :class:`SimProject`)."""
        project = SimProject(id=project_id or self.new_id(), name=name, owner=owner, **fields)
        self.projects[project.id] = project
        return project

    def add_upload(
        self,
        project_id: str,
        file_url: str,
        *,
        upload_id: str | None = None,
        status: str = "Approved",
        auto_release: bool = False,
        objection: str | None = None,
    ) -> Upload:
        """Record a build without running the pipeline (for seeding)."""
        upload = Upload(
            upload_id or self.new_id(),
            project_id,
            file_url,
            auto_release,
            status,
            objection,
            created_at=self.clock(),
        )
        self.uploads[upload.id] = upload
        return upload

    def set_user_stats(self, project_id: str, *, live: int, queue: int) -> None:
        """Change what ``userStats`` reports for a project."""
        project = self.projects[project_id]
        project.live_users, project.queue_users = live, queue

    def set_webhook_url(self, project_id: str, url: str | None) -> None:
        """Point a project's webhooks somewhere (``None`` disables them)."""
        self.projects[project_id].webhook_url = url

    def fail_next_build(self, stage: str, objection: str = "Build failed validation.") -> None:
        """Reject the next uploaded build at the end of ``stage``.

        Raises:
            ValueError: ``stage`` is not downloading, extracting or saving.
        """
        if stage not in FAILABLE_STAGES:
            raise ValueError(f"builds can be rejected only at {', '.join(FAILABLE_STAGES)}")
        self._failures.append(_Failure(stage, objection))

    def fail_next_requests(
        self, count: int = 1, *, status: int = 500, message: str = "Internal server error"
    ) -> None:
        """Answer the next ``count`` API requests with ``status`` and ``message``."""
        self._fault = _ServerFault(count, status, message)

    def take_fault(self) -> SimError | None:
        """The injected failure for this request, if one is pending."""
        if self._fault is None or self._fault.remaining <= 0:
            return None
        self._fault.remaining -= 1
        return SimError(self._fault.status, self._fault.message)

    def take_rate_slot(self, user_id: str, action: str) -> bool:
        """Admit one ``action`` by ``user_id`` if its window has passed."""
        now = self.clock()
        last = self._last_call.get((user_id, action))
        if last is not None and now - last < self.rate_limit_seconds:
            return False
        self._last_call[(user_id, action)] = now
        return True

    # -- pipeline ----------------------------------------------------------

    def start_upload(self, project: SimProject, file_url: str, auto_release: bool) -> Upload:
        """Accept a build and run its pipeline in the background."""
        upload = self.add_upload(project.id, file_url, status="pending", auto_release=auto_release)
        failure = self._failures.pop(0) if self._failures else None
        self._spawn(self._run_pipeline(project, upload, failure))
        return upload

    def start_distribution(self, project: SimProject, upload: Upload) -> None:
        """Release an approved build to the project's region in the background."""
        self._spawn(self._run_distribution(project, upload))

    async def _run_pipeline(
        self, project: SimProject, upload: Upload, failure: _Failure | None
    ) -> None:
        await self.emit(project, "build.uploaded", upload)
        for stage in FAILABLE_STAGES:
            upload.status = EVENT_STATUS[f"build.{stage}"]
            await self.emit(project, f"build.{stage}", upload)
            await self.sleep(getattr(self.timings, stage))
            if failure is not None and failure.stage == stage:
                upload.status, upload.objection = "Reject", failure.objection
                await self.emit(project, "build.rejected", upload)
                return
        if upload.auto_release:
            upload.status = EVENT_STATUS["build.distributing"]
            await self.emit(project, "build.distributing", upload)
            await self.sleep(self.timings.distributing)
            project.live_upload_id = upload.id
        upload.status = EVENT_STATUS["build.approved"]
        await self.emit(project, "build.approved", upload)

    async def _run_distribution(self, project: SimProject, upload: Upload) -> None:
        await self.emit(project, "build.distributing", upload)
        await self.sleep(self.timings.distributing)
        project.live_upload_id = upload.id

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> bool:
        """A pipeline or distribution is still running."""
        return bool(self._tasks)

    async def drain(self) -> None:
        """Wait until every running pipeline and distribution has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    # -- webhooks ----------------------------------------------------------

    def payload(self, project: SimProject, event: str, upload: Upload | None) -> dict[str, Any]:
        """The webhook envelope (providers.md §1.4) for ``event``."""
        stamp = datetime.fromtimestamp(self.clock(), UTC)
        return {
            "event": event,
            "projectId": project.id,
            "uploadId": upload.id if upload else None,
            "fileUrl": upload.file_url if upload else None,
            "status": EVENT_STATUS[event],
            "objection": upload.objection if upload and event == "build.rejected" else None,
            "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    async def emit(self, project: SimProject, event: str, upload: Upload | None) -> None:
        """Record ``event`` and deliver it if the project subscribes to it."""
        body = self.payload(project, event, upload)
        self.events.append(body)
        if project.webhook_url and event in project.webhook_events:
            await self.deliver(project.webhook_url, body)

    async def deliver(self, url: str, body: dict[str, Any]) -> WebhookDelivery:
        """POST one webhook, once, and record how it went."""
        if self._webhook_client is None:
            self._webhook_client = httpx.AsyncClient(
                timeout=WEBHOOK_TIMEOUT, transport=self.webhook_transport
            )
        try:
            response = await self._webhook_client.post(url, json=body)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            delivery = WebhookDelivery(body["event"], url, body, 0, type(exc).__name__)
        else:
            delivery = WebhookDelivery(body["event"], url, body, response.status_code)
        self.deliveries.append(delivery)
        return delivery

    def deliveries_for(self, upload_id: str) -> list[WebhookDelivery]:
        """The delivery attempts about one build, in order."""
        return [d for d in self.deliveries if d.payload.get("uploadId") == upload_id]

    async def aclose(self) -> None:
        """Stop background work and close the webhook client (app shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._webhook_client is not None:
            await self._webhook_client.aclose()
            self._webhook_client = None

    def set_timings(self, **changes: float) -> None:
        """Change some stage timings (e.g. ``downloading=0.5``)."""
        self.timings = replace(self.timings, **changes)
