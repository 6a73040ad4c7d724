"""``/streamops roles``: admins grant, revoke and list roles (stored in the database)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.authz import Authorizer, Role
from bot.errors import InvalidInput
from bot.services.actor import Actor, Gate, Target


@dataclass(frozen=True)
class RoleChange:
    """What a grant or revoke did.

    Attributes:
        granted: True for a grant, False for a revoke.
        changed: False when the user already had (or did not have) the role.
        config_admin: the user is an admin through ``STREAMOPS_ADMINS`` (not revocable here).
    """

    granted: bool
    user_id: str
    role: Role
    changed: bool
    config_admin: bool


@dataclass(frozen=True)
class RoleListing:
    """Who holds which role: configured admins, then stored grants by user."""

    admins: tuple[str, ...]
    grants: dict[str, list[str]]


def _target(user_id: str | None, role: Role | None) -> Target:
    """The user a role change is about (nothing for ``list``)."""
    return Target(
        None,
        "user" if user_id else None,
        user_id,
        {"role": role.value} if role else {},
    )


class RoleService:
    """Role grants.

    Args:
        authz: the role checker (its store holds the grants).
        gate: authorization and the audit trail.
    """

    def __init__(self, authz: Authorizer, gate: Gate) -> None:
        self.authz = authz
        self.gate = gate

    async def listing(self, actor: Actor) -> RoleListing:
        """Every role holder (admins only)."""
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "roles.manage", "role.list", _target(None, None))
        grants: dict[str, list[str]] = {}
        for grant in await self.authz.store.all_grants():
            grants.setdefault(grant.user_id, []).append(grant.role)
        return RoleListing(tuple(sorted(self.authz.admins)), grants)

    async def grant(self, actor: Actor, user_id: str, role: Role) -> RoleChange:
        """Give ``user_id`` the ``role`` (admins only)."""
        return await self._change(actor, True, user_id, role)

    async def revoke(self, actor: Actor, user_id: str, role: Role) -> RoleChange:
        """Take the ``role`` from ``user_id`` (admins only)."""
        return await self._change(actor, False, user_id, role)

    async def _change(self, actor: Actor, grant: bool, user_id: str, role: Role) -> RoleChange:
        action = "role.grant" if grant else "role.revoke"
        trail = self.gate.trail(actor)
        target = _target(user_id, role)
        await self.gate.check(trail, "roles.manage", action, target)
        if role is Role.VIEWER:
            raise InvalidInput("everyone is a viewer; grant admin, releaser or media")
        store = self.authz.store
        if grant:
            changed = await store.grant(user_id, role.value, actor.user_id)
        else:
            changed = await store.revoke(user_id, role.value)
        await trail.record(action, "ok", target, "changed" if changed else "unchanged")
        config_admin = role is Role.ADMIN and user_id in self.authz.admins
        return RoleChange(grant, user_id, role, changed, config_admin)
