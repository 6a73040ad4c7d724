"""Streampixel build logic: project names, the shared rate slot, uploads, distributions, queue.

Slack-agnostic: handlers turn these results into messages. Streampixel admits
one upload and one distribute per two minutes per account; the slot is kept in
the database (:class:`storage.builds.BuildStore`) so that every replica sees it,
and the bot tells the user when the next one opens instead of sending a call
Streampixel would refuse. Distributions can be queued for that moment; the
queue runner runs them through :meth:`BuildService.run_next_due`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import InvalidInput, NotFound, ProviderError, RateLimited, UserFacingError
from bot.mrkdwn import code
from bot.providers.streampixel import (
    RATE_LIMIT_SECONDS,
    DistributeResult,
    Project,
    UploadResult,
    UserStats,
)
from storage.builds import DONE, FAILED, Build, BuildStore, Queued
from storage.coordination import RateSlots

#: How many userStats calls run at once for ``/build projects``.
STATS_CONCURRENCY = 5

Clock = Callable[[], datetime]


class StreampixelAPI(Protocol):
    """What the service needs from :class:`bot.providers.streampixel.StreampixelClient`."""

    user_id: str

    async def list_projects(self) -> list[Project]: ...

    async def user_stats(self, project_id: str) -> UserStats: ...

    async def upload(
        self, project_id: str, file_url: str, *, auto_release: bool = True
    ) -> UploadResult: ...

    async def distribute(self, project_id: str, upload_id: str) -> DistributeResult: ...


@dataclass(frozen=True)
class ProjectLine:
    """One project with its live/queued users, or why they could not be read."""

    project: Project
    stats: UserStats | None
    stats_error: str | None = None


@dataclass(frozen=True)
class SlotBusy:
    """The account's slot is used; the call was not sent. ``next_at`` is when it opens."""

    next_at: datetime


@dataclass(frozen=True)
class QueuedRun:
    """What the scheduler did with one queued distribution.

    Attributes:
        outcome: ``"ok"``, ``"failed"`` or ``"rescheduled"`` (slot still busy).
        message: Streampixel's words (or ours).
        next_at: the new run time when rescheduled.
    """

    queued: Queued
    outcome: str
    message: str
    next_at: datetime | None = None


class HasMessage(Protocol):
    """A provider's (or our) answer to a distribution."""

    @property
    def message(self) -> str: ...


#: Runs one claimed queued distribution.
RunQueued = Callable[[Queued], Awaitable[HasMessage | SlotBusy]]


def project_candidates(projects: list[Project], text: str) -> list[Project]:
    """The projects ``text`` may name: the one with that id, else those with that name, else
    those whose name starts with it (names compare case-insensitively)."""
    wanted = text.strip()
    for project in projects:
        if project.id == wanted:
            return [project]
    folded = wanted.casefold()
    exact = [p for p in projects if p.name.casefold() == folded]
    return exact or [p for p in projects if p.name.casefold().startswith(folded)]


def match_project(projects: list[Project], text: str) -> Project:
    """The project named by ``text``: its id, its name, or a unique prefix of its name.

    Names compare case-insensitively. An exact name wins over prefixes.

    Raises:
        NotFound: nothing matches.
        InvalidInput: several projects match; the message lists them.
    """
    wanted = text.strip()
    candidates = project_candidates(projects, wanted)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NotFound(f"no Streampixel project is called or has the id {code(wanted)}")
    names = ", ".join(f"{p.name} (`{p.id}`)" for p in candidates[:10])
    raise InvalidInput(
        f"{code(wanted)} matches several projects: {names}. Use more of the name or the id"
    )


class BuildService:
    """Streampixel operations with the bot's bookkeeping around them.

    Args:
        api: the Streampixel client.
        store: known builds, rate slots and the queue.
        clock: the current time (timezone-aware).
        window: how long one upload or distribute blocks the next on the account
            (Streampixel's documented 2 minutes; ``STREAMPIXEL_RATE_WINDOW_SECONDS``).
    """

    def __init__(
        self,
        api: StreampixelAPI,
        store: BuildStore,
        clock: Clock,
        window: timedelta = timedelta(seconds=RATE_LIMIT_SECONDS),
    ) -> None:
        self.api = api
        self.store = store
        self.slots = RateSlots(store.db)
        self.clock = clock
        self.window = window

    @property
    def account(self) -> str:
        """The Streampixel account the rate slot belongs to."""
        return self.api.user_id

    async def resolve_project(self, text: str) -> Project:
        """The project ``text`` names (see :func:`match_project`)."""
        return match_project(await self.api.list_projects(), text)

    async def overview(self) -> list[ProjectLine]:
        """Every project with its live and queued users, fetched concurrently.

        A project whose stats cannot be read (disabled projects answer "Access
        denied") is listed with the reason instead of numbers.
        """
        projects = await self.api.list_projects()
        limit = asyncio.Semaphore(STATS_CONCURRENCY)

        async def line(project: Project) -> ProjectLine:
            async with limit:
                try:
                    return ProjectLine(project, await self.api.user_stats(project.id))
                except ProviderError as exc:
                    return ProjectLine(project, None, exc.message)

        return list(await asyncio.gather(*(line(p) for p in projects)))

    async def users(self, text: str) -> tuple[Project, UserStats]:
        """The named project and its live/queued users."""
        project = await self.resolve_project(text)
        return project, await self.api.user_stats(project.id)

    async def upload(
        self, project: Project, file_url: str, *, auto_release: bool, requested_by: str
    ) -> UploadResult | SlotBusy:
        """Send a build to Streampixel if the upload slot is free, and remember it.

        Raises:
            ProviderError: Streampixel refused the build (not a rate limit).
        """
        busy = await self._take("upload")
        if busy is not None:
            return busy
        try:
            result = await self.api.upload(project.id, file_url, auto_release=auto_release)
        except RateLimited as exc:
            return await self._blocked("upload", exc)
        await self.store.remember_upload(
            project.id,
            result.upload_id,
            file_url=file_url,
            auto_release=auto_release,
            requested_by=requested_by,
            at=self.clock(),
        )
        return result

    async def distribute(self, project_id: str, upload_id: str) -> DistributeResult | SlotBusy:
        """Distribute (or roll back to) a build if the distribute slot is free.

        Raises:
            ProviderError: Streampixel refused (unknown build, still processing...).
        """
        busy = await self._take("distribute")
        if busy is not None:
            return busy
        try:
            return await self.api.distribute(project_id, upload_id)
        except RateLimited as exc:
            return await self._blocked("distribute", exc)

    async def next_distribute_slot(self) -> datetime:
        """When the next distribution may be sent (now if the slot is free)."""
        return await self.slots.next_slot(
            self.account, "distribute", now=self.clock(), window=self.window
        )

    async def queue(
        self, project_id: str, upload_id: str, *, action: str, requested_by: str, channel_id: str
    ) -> Queued:
        """Store a distribution to run when the distribute slot next opens."""
        return await self.store.enqueue(
            project_id=project_id,
            upload_id=upload_id,
            action=action,
            requested_by=requested_by,
            channel_id=channel_id,
            run_at=await self.next_distribute_slot(),
            now=self.clock(),
        )

    async def run_next_due(self, run: RunQueued | None = None) -> QueuedRun | None:
        """Run the oldest due queued distribution, if there is one.

        Args:
            run: what running it means (the release use case, with its checks);
                a bare :meth:`distribute` if omitted.

        Returns:
            What happened, or None when nothing is due.
        """
        queued = await self.store.claim_due(self.clock())
        if queued is None:
            return None
        try:
            result: HasMessage | SlotBusy
            if run is None:
                result = await self.distribute(queued.project_id, queued.upload_id)
            else:
                result = await run(queued)
        except (ProviderError, UserFacingError) as exc:
            message = exc.message if isinstance(exc, ProviderError) else str(exc)
            await self.store.finish_queued(queued.id, FAILED, message, self.clock())
            return QueuedRun(queued, "failed", message)
        except BaseException:
            # Not ours to judge (e.g. cancelled at shutdown): let it run again later.
            await self.store.reschedule(queued.id, queued.run_at)
            raise
        if isinstance(result, SlotBusy):
            await self.store.reschedule(queued.id, result.next_at)
            return QueuedRun(queued, "rescheduled", "the slot is still in use", result.next_at)
        await self.store.finish_queued(queued.id, DONE, result.message, self.clock())
        return QueuedRun(queued, "ok", result.message)

    async def known_builds(
        self, project_id: str, *, page: int, per_page: int
    ) -> tuple[list[Build], int]:
        """One page (from 1) of the project's known builds, newest first, and their total."""
        total = await self.store.count_builds(project_id)
        builds = await self.store.builds_for(
            project_id, limit=per_page, offset=(max(page, 1) - 1) * per_page
        )
        return builds, total

    async def _take(self, action: str) -> SlotBusy | None:
        next_at = await self.slots.take_slot(
            self.account, action, now=self.clock(), window=self.window
        )
        return None if next_at is None else SlotBusy(next_at)

    async def _blocked(self, action: str, exc: RateLimited) -> SlotBusy:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self.window
        until = self.clock() + wait
        await self.slots.block_slot(self.account, action, until=until, window=self.window)
        return SlotBusy(until)
