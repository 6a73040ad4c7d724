"""The release timeline as the release use cases see it: live builds, choices, refusals, stamps.

One object over the known builds (:class:`storage.builds.BuildStore`), the
timeline (:class:`storage.timeline.TimelineStore`) and, where the documents
allow it, Streampixel's project data (``GET /projects/{id}`` ``files``): a
fresh install learns the project's approved and rejected builds from it the
first time someone lists builds or asks to roll back. The project data is a
lower-confidence part of the documents, so any error reading it is logged and
the bot goes on with what it knows.

The App Home (ops) shows :meth:`ReleaseTimeline.live_states` per project.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.errors import ProviderError, UserFacingError
from bot.mrkdwn import esc
from bot.providers.streampixel import Project, ProjectFile
from bot.services.release_view import (
    BuildView,
    Refusal,
    RollbackChoices,
    known_to_fail,
    rollback_choices,
    views,
)
from storage.builds import Build, BuildStore
from storage.timeline import VIA_DISTRIBUTE, VIA_ROLLBACK, LiveState, Stamp, TimelineStore

log = logging.getLogger("streamops.release_timeline")

Clock = Callable[[], datetime]
#: Reads a project's processed builds from Streampixel (None: not available).
FilesReader = Callable[[str], Awaitable[list[ProjectFile]]]


class ReleaseRefused(UserFacingError):
    """A distribute or rollback the bot knows Streampixel would refuse: nothing was sent.

    The message is safe to show as mrkdwn (the provider's words are escaped).
    """

    def __init__(self, action: str, upload_id: str, reason: str) -> None:
        super().__init__(
            f"Not sent: {esc(reason)}. Nothing went to Streampixel and its distribute slot "
            "was not used."
        )
        self.action = action
        self.upload_id = upload_id
        self.reason = reason


@dataclass(frozen=True)
class BuildsView:
    """One page of a project's builds with their live marks."""

    builds: list[BuildView]
    total: int
    live: LiveState


@dataclass(frozen=True)
class Preflight:
    """What the bot knows about a build before a distribute or rollback.

    Attributes:
        build: the build as known in this project (None: the bot never saw it).
        refusal: set when the action is known to fail (nothing is sent then).
        live: the project's live state (the confirm dialog names the live build).
    """

    build: Build | None
    refusal: Refusal | None
    live: LiveState

    @property
    def known(self) -> bool:
        """The bot has seen this build (upload, webhook or project data)."""
        return self.build is not None


class ReleaseTimeline:
    """Reads and writes the release timeline (see the module docstring).

    Args:
        builds: the known builds.
        timeline: live rows, decisions and project names.
        clock: the current time.
        files: reads Streampixel's project data; None to rely on uploads and webhooks only.
    """

    def __init__(
        self,
        builds: BuildStore,
        timeline: TimelineStore,
        clock: Clock,
        files: FilesReader | None = None,
    ) -> None:
        self.builds = builds
        self.timeline = timeline
        self.clock = clock
        self.files = files
        # The names this process last stored: ``/build projects`` lists every project
        # each time, and an unchanged name needs no write transaction.
        self._stored_names: dict[str, str] = {}

    async def remember_projects(self, projects: Iterable[Project]) -> None:
        """Keep the projects' names, so messages rendered later can use them.

        Only names this process has not stored yet (or that changed) are written.
        """
        names = {p.id: p.name for p in projects if self._stored_names.get(p.id) != p.name}
        if not names:
            return
        await self.timeline.remember_names(names, self.clock())
        self._stored_names.update(names)

    async def learn_from_provider(self, project_id: str) -> int:
        """Record the project's processed builds from Streampixel's project data.

        Returns:
            How many files Streampixel listed (0 when the data could not be read).
        """
        if self.files is None:
            return 0
        try:
            files = await self.files(project_id)
        except ProviderError as exc:
            log.info("project data of %s not available: %s", project_id, exc.message)
            return 0
        for item in files:
            await self.builds.note_pipeline_event(
                project_id,
                item.upload_id,
                item.status,
                item.url,
                item.objection,
                item.date or self.clock(),
            )
        return len(files)

    async def page(self, project_id: str, *, page: int, per_page: int) -> BuildsView:
        """One page (from 1) of the project's builds, newest first, marked live/previous live."""
        if page <= 1:
            await self.learn_from_provider(project_id)
        total = await self.builds.count_builds(project_id)
        known = await self.builds.builds_for(
            project_id, limit=per_page, offset=(max(page, 1) - 1) * per_page
        )
        live = await self.timeline.live_state(project_id)
        return BuildsView(views(known, live), total, live)

    async def rollback_choices(self, project_id: str, *, limit: int) -> RollbackChoices:
        """The last good build first, then other approved builds (see release_view)."""
        await self.learn_from_provider(project_id)
        known = await self.builds.builds_for(project_id, limit=100)
        return rollback_choices(known, await self.timeline.live_state(project_id), limit=limit)

    async def preflight(self, project_id: str, upload_id: str, *, learn: bool = False) -> Preflight:
        """The build as the bot knows it, and a refusal when the action is known to fail.

        Args:
            learn: read Streampixel's project data first when the build is unknown
                (slash commands; a click uses what is stored).
        """
        here = await self.builds.get_build(project_id, upload_id)
        if here is None and learn:
            await self.learn_from_provider(project_id)
            here = await self.builds.get_build(project_id, upload_id)
        elsewhere = []
        if here is None:
            elsewhere = [
                b
                for b in await self.builds.builds_with_upload(upload_id)
                if b.project_id != project_id
            ]
        refusal = known_to_fail(project_id, upload_id, here, elsewhere)
        return Preflight(here, refusal, await self.timeline.live_state(project_id))

    async def made_live(
        self, project_id: str, upload_id: str, *, action: str, actor_id: str, source: str
    ) -> None:
        """Record that the bot's distribution or rollback was accepted by Streampixel."""
        await self.timeline.record_live(
            project_id,
            upload_id,
            via=VIA_ROLLBACK if action == "rollback" else VIA_DISTRIBUTE,
            actor_id=actor_id,
            source=source,
            at=self.clock(),
        )

    async def approved(self, project_id: str, upload_id: str, *, actor_id: str) -> None:
        """Record an approval of a release of the build (shown as a stamp)."""
        await self.timeline.record_approval(
            project_id, upload_id, actor_id=actor_id, source="button", at=self.clock()
        )

    async def stamps(self, project_id: str, upload_id: str) -> list[Stamp]:
        """The decisions taken on the build, oldest first."""
        return await self.timeline.stamps(project_id, upload_id)

    async def live_states(self, project_ids: Iterable[str] | None = None) -> dict[str, LiveState]:
        """Live and previous live build per project (for the App Home)."""
        return await self.timeline.live_states(project_ids)

    async def project_name(self, project_id: str) -> str | None:
        """The project's last known name."""
        return await self.timeline.project_name(project_id)
