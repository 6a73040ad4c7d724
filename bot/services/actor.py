"""Who asked for an action, and how their attempts reach the audit log.

An :class:`Actor` is built once per slash command or click and carries what
every :class:`~bot.audit.AuditEvent` needs, so services record outcomes with
one call instead of repeating the request's context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.audit import AuditEvent, Auditor, Outcome, Source
from bot.authz import Authorizer
from bot.errors import NotAuthorized


@dataclass(frozen=True)
class Actor:
    """The person behind one request, and where the request came from.

    Attributes:
        user_id: the Slack user id.
        source: ``"slash_command"``, ``"button"`` ...
        requested_at: when the request arrived (timezone-aware).
        user_name: the Slack user name, when known.
        team_id: the workspace.
        channel_id: the channel the request came from.
        correlation_id: links audit rows to the Slack request.
    """

    user_id: str
    source: Source
    requested_at: datetime
    user_name: str = ""
    team_id: str = ""
    channel_id: str = ""
    correlation_id: str = ""


@dataclass(frozen=True)
class Target:
    """What an action is about, for the audit log.

    Attributes:
        provider: ``"streampixel"``, ``"streamstack"``, ``"streamapi"``, or None for
            the bot's own settings (roles, subscriptions, the audit log).
        target_type: ``"project"``, ``"upload"``, ``"video"``, ``"user"``..., or None.
        target_id: the project id, uploadId, video uuid, user id...
        params: the request parameters worth keeping.
    """

    provider: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)


class AuditTrail:
    """Records an actor's attempts on one target through an :class:`Auditor`.

    Args:
        audit: where events go.
        actor: who is acting.
        clock: the current time, for ``completed_at``.
    """

    def __init__(self, audit: Auditor, actor: Actor, clock: Callable[[], datetime]) -> None:
        self._audit = audit
        self.actor = actor
        self._clock = clock

    async def record(
        self, action: str, outcome: Outcome, target: Target, message: str = ""
    ) -> None:
        """Hand one event (``ok``, ``denied`` or ``failed``) to the audit log."""
        actor = self.actor
        await self._audit.record(
            AuditEvent(
                action=action,
                outcome=outcome,
                actor_id=actor.user_id,
                source=actor.source,
                requested_at=actor.requested_at,
                completed_at=self._clock(),
                actor_name=actor.user_name,
                team_id=actor.team_id,
                channel_id=actor.channel_id,
                provider=target.provider,
                target_type=target.target_type,
                target_id=target.target_id,
                params=dict(target.params),
                message=message[:500],
                correlation_id=actor.correlation_id,
            )
        )


async def authorize(
    authz: Authorizer, trail: AuditTrail, permission: str, action: str, target: Target
) -> None:
    """Let the actor through, or audit the refusal and raise it.

    Args:
        authz: the role checker.
        trail: the actor's audit trail.
        permission: e.g. ``"media.delete"``.
        action: the audit action name, e.g. ``"delete"``.
        target: what the refused action was about.

    Raises:
        NotAuthorized: the actor lacks the role.
    """
    try:
        await authz.require(trail.actor.user_id, permission)
    except NotAuthorized as exc:
        await trail.record(action, "denied", target, str(exc))
        raise


class Gate:
    """Authorization in one style: every service asks here; refusals are audited.

    Args:
        authz: the role checker.
        audit: where events go.
        clock: the current time, for ``completed_at``.
    """

    def __init__(self, authz: Authorizer, audit: Auditor, clock: Callable[[], datetime]) -> None:
        self.authz = authz
        self.audit = audit
        self.clock = clock

    def trail(self, actor: Actor) -> AuditTrail:
        """Where ``actor``'s attempts are audited."""
        return AuditTrail(self.audit, actor, self.clock)

    async def check(
        self,
        trail: AuditTrail,
        permission: str,
        action: str,
        target: Target,
        *,
        refusal: tuple[str, str] | None = None,
        record: bool = True,
    ) -> None:
        """Let the actor through, or audit the refusal and raise :class:`NotAuthorized`.

        Args:
            permission: e.g. ``"media.delete"``.
            action: the audit action name, e.g. ``"delete"``.
            target: what the refused action was about.
            refusal: ``(audit message, user message)`` instead of the role hint.
            record: False for plain reads whose refusal is not worth an audit row.
        """
        if not record:
            await self.authz.require(trail.actor.user_id, permission)
            return
        if refusal is None:
            await authorize(self.authz, trail, permission, action, target)
            return
        if not await self.authz.allowed(trail.actor.user_id, permission):
            await trail.record(action, "denied", target, refusal[0])
            raise NotAuthorized(refusal[1])
