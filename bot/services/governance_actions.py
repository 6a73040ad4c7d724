"""The governance use cases the Slack surfaces call: one function per user action.

``/build policy``, the Approve and Reject buttons, ``/streamops freeze``,
``unfreeze`` and ``freezes``, and the override modal. Each resolves names to
ids, calls :class:`~bot.services.governance.Governance` for the rules (which
authorizes and audits), and, when an approval completes or an admin overrides
a freeze, runs the release through the same release function as every other
entry point (:class:`ReleasePort`, the app's ``Releases``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.errors import InvalidInput, ProviderError, UserFacingError
from bot.mrkdwn import code
from bot.providers.streampixel import Project
from bot.services.actor import Actor
from bot.services.freeze_window import parse_window
from bot.services.governance import (
    RELEASE_ACTIONS,
    Approved,
    FreezeSet,
    Governance,
    Override,
    VoteRecorded,
)
from storage.approvals import ApprovalRequest, Policy
from storage.freezes import ALL, Freeze

#: The words that name every project in ``/streamops freeze all``.
ALL_WORDS = ("all", "*")


class ReleasePort(Protocol):
    """What governance needs from the release use cases."""

    async def release(
        self,
        actor: Actor,
        action: str,
        project_id: str,
        upload_id: str,
        *,
        override: Override | None = None,
    ) -> object:
        """Run a distribute/rollback through every rule (role, freeze, approval, slot)."""
        ...


@dataclass(frozen=True)
class ApprovedRun:
    """The approval that completed a request, and what running the release gave.

    Attributes:
        result: the release's result (``Released``, ``SlotBusy``...), or None when
            it raised (``error`` then says why).
    """

    request: ApprovalRequest
    result: object | None
    error: str | None = None


@dataclass(frozen=True)
class OverrideRun:
    """An admin's override and the action it let through."""

    override: Override
    result: object


@dataclass(frozen=True)
class Unfrozen:
    """The freezes ``/streamops unfreeze`` lifted, and the scope's name."""

    scope_name: str
    lifted: list[Freeze]


class GovernanceActions:
    """The governance use cases (see the module docstring).

    Args:
        governance: the rules.
        releases: runs a release through every rule.
        resolve_project: the project a user's text names (id, name or prefix).
    """

    def __init__(
        self,
        governance: Governance,
        releases: ReleasePort,
        resolve_project: Callable[[str], Awaitable[Project]],
    ) -> None:
        self.governance = governance
        self.releases = releases
        self.resolve_project = resolve_project

    # -- /build policy ---------------------------------------------------------------

    async def policy(
        self, actor: Actor, project: str, settings: list[str]
    ) -> tuple[Project, Policy]:
        """Show the named project's policy, or set it from ``approvals=N [approvers=role]``.

        Raises:
            InvalidInput: an unknown or malformed setting, approvals out of range.
            NotAuthorized: a non-admin tried to set it (audited).
        """
        found = await self.resolve_project(project)
        if not settings:
            return found, await self.governance.policy(found.id)
        values = parse_settings(settings)
        if "approvals" not in values:
            raise InvalidInput("say how many approvals: `approvals=<0|1|2|3>`")
        raw = values["approvals"]
        if not raw.isdigit():
            raise InvalidInput(f"approvals must be a number from 0 to 3, not {code(raw)}")
        policy = await self.governance.set_policy(
            actor, found.id, int(raw), values.get("approvers")
        )
        return found, policy

    # -- Approve / Reject --------------------------------------------------------------

    async def approve(self, actor: Actor, request_id: int) -> VoteRecorded | ApprovedRun:
        """Count an approval; the one that completes the count runs the release.

        The release runs as the requester (their role is checked again), in the
        request's channel, through the normal freeze, slot and queue rules.
        """
        vote = await self.governance.approve(actor, request_id)
        if not isinstance(vote, Approved):
            return vote
        request = vote.request
        runner = Actor(
            user_id=request.requested_by,
            source=actor.source,
            requested_at=actor.requested_at,
            team_id=actor.team_id,
            channel_id=request.channel_id,
            correlation_id=actor.correlation_id,
        )
        try:
            result = await self.releases.release(
                runner, request.action, request.project_id, request.upload_id
            )
        except (ProviderError, UserFacingError) as exc:
            # Refused before the run started (a freeze, the requester's role):
            # the approved request ends here, saying why.
            words = exc.message if isinstance(exc, ProviderError) else str(exc)
            await self.governance.abandon(request, actor, words)
            return ApprovedRun(request, None, words)
        return ApprovedRun(request, result)

    async def reject(self, actor: Actor, request_id: int, reason: str) -> ApprovalRequest:
        """Reject a pending request with a reason (from the modal)."""
        return await self.governance.reject(actor, request_id, reason)

    # -- freezes -----------------------------------------------------------------------

    async def freeze(self, actor: Actor, scope: str, words: list[str]) -> FreezeSet:
        """``/streamops freeze <project|all> <for 2h | until ISO> <reason…>``."""
        window = parse_window(words, self.governance.clock())
        reason = " ".join(window.rest).strip()
        if not reason:
            raise InvalidInput("a freeze needs a reason after the time, e.g. `launch weekend`")
        project_id, name = await self._scope(scope)
        return await self.governance.freeze(
            actor, project_id, name, window.starts_at, window.ends_at, reason
        )

    async def unfreeze(self, actor: Actor, scope: str) -> Unfrozen:
        """``/streamops unfreeze <project|all>``."""
        project_id, name = await self._scope(scope)
        return Unfrozen(name, await self.governance.unfreeze(actor, project_id))

    async def freezes(self) -> list[Freeze]:
        """Active and upcoming freezes."""
        return await self.governance.current_freezes()

    async def override(
        self, actor: Actor, action: str, project_id: str | None, subject: str, reason: str
    ) -> OverrideRun:
        """An admin overrides the freeze for one distribute/rollback, then it runs.

        Raises:
            InvalidInput: the action cannot be overridden here, or no reason.
        """
        if action not in RELEASE_ACTIONS or project_id is None:
            raise InvalidInput("only a distribute or rollback can be overridden")
        override = await self.governance.override(actor, action, project_id, subject, reason)
        result = await self.releases.release(actor, action, project_id, subject, override=override)
        return OverrideRun(override, result)

    async def _scope(self, text: str) -> tuple[str, str]:
        if text.strip().lower() in ALL_WORDS:
            return ALL, "all projects"
        found = await self.resolve_project(text)
        return found.id, found.name


def parse_settings(words: list[str]) -> dict[str, str]:
    """``approvals=2 approvers=admin`` as a dict; unknown keys are refused by name."""
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        key = key.strip().lower()
        if not sep or not value:
            raise InvalidInput(
                f"{code(word)} is not a setting; write `approvals=2` or `approvers=admin`"
            )
        if key not in ("approvals", "approvers"):
            raise InvalidInput(
                f"unknown setting {code(key)}; the settings are approvals and approvers"
            )
        values[key] = value.strip()
    return values
