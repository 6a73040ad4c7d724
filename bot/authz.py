"""Who may do what. Checked on the server for every command, click and form."""

from __future__ import annotations

from enum import StrEnum

from bot.errors import InvalidInput, NotAuthorized
from bot.mrkdwn import code
from storage.roles import RoleStore


class Role(StrEnum):
    """The roles a Slack user can hold. Everyone is a viewer."""

    ADMIN = "admin"
    RELEASER = "releaser"
    MEDIA = "media"
    VIEWER = "viewer"


#: The role each state-changing permission needs (admins may do everything).
PERMISSIONS: dict[str, Role] = {
    "build.upload": Role.RELEASER,
    "build.distribute": Role.RELEASER,
    "build.rollback": Role.RELEASER,
    "build.queue": Role.RELEASER,
    "build.schedule": Role.RELEASER,
    "build.schedule.cancel_any": Role.ADMIN,
    "build.test_webhook": Role.RELEASER,
    "media.upload": Role.MEDIA,
    "media.delete": Role.MEDIA,
    "live.create": Role.MEDIA,
    "roles.manage": Role.ADMIN,
    "subscriptions.manage": Role.ADMIN,
    "events.view": Role.ADMIN,
    "audit.query": Role.ADMIN,
    "governance.policy": Role.ADMIN,
    "governance.freeze": Role.ADMIN,
    "governance.override": Role.ADMIN,
}


def parse_role(text: str) -> Role:
    """The :class:`Role` named by ``text`` (case-insensitive)."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {code(text)}; roles are {names}") from None


class Authorizer:
    """Answers role questions from configured admins plus stored grants.

    Args:
        admins: Slack user ids from ``STREAMOPS_ADMINS``; always admins.
        store: the stored grants.
    """

    def __init__(self, admins: frozenset[str], store: RoleStore) -> None:
        self.admins = admins
        self.store = store

    async def roles_of(self, user_id: str) -> set[Role]:
        """Every role ``user_id`` holds, viewer included."""
        roles = {Role.VIEWER}
        if user_id in self.admins:
            roles.add(Role.ADMIN)
        known = {r.value for r in Role}
        roles.update(Role(r) for r in await self.store.roles_of(user_id) if r in known)
        return roles

    async def allowed(self, user_id: str, permission: str) -> bool:
        """True when ``user_id`` may use ``permission``."""
        needed = PERMISSIONS.get(permission)
        if needed is None:
            raise KeyError(f"unknown permission {permission!r}")
        roles = await self.roles_of(user_id)
        return Role.ADMIN in roles or needed in roles

    async def require(self, user_id: str, permission: str) -> None:
        """Raise :class:`NotAuthorized` unless ``user_id`` may use ``permission``."""
        if not await self.allowed(user_id, permission):
            needed = PERMISSIONS[permission]
            raise NotAuthorized(
                f"you need the *{needed.value}* role for that; ask an admin "
                f"(`/streamops roles grant <@you> {needed.value}`)"
            )
