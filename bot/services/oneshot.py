"""Buttons that run once: one key format, one claim, one answer for the late clicks.

A one-shot button (Distribute, Rollback, Queue, Delete) is identified by what it
does, what it is about, and the message it sits on. The first click claims that
key (a unique row, :class:`storage.coordination.ClaimStore`, shared by every replica);
later or concurrent clicks get the existing :class:`~storage.coordination.Claim` back
and are told who used the button. The winner records how the action ended, or
frees the key when nothing was done, so the button can be tried again.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.coordination import Claim, ClaimStore


@dataclass(frozen=True)
class Button:
    """Where a clicked button sits: the channel and the ts of its message."""

    channel_id: str
    message_ts: str


@dataclass(frozen=True)
class AlreadyUsed:
    """The button was used before; ``claim`` says by whom (None if it vanished meanwhile)."""

    action: str
    claim: Claim | None


class OneShot:
    """Claims one-shot buttons (see the module docstring).

    Args:
        claims: the claim store.
    """

    def __init__(self, claims: ClaimStore) -> None:
        self.claims = claims

    @staticmethod
    def key(action: str, subject: str, button: Button) -> str:
        """The one key format: ``<action>:<subject>:<channel>:<message ts>``."""
        return f"{action}:{subject}:{button.channel_id}:{button.message_ts}"

    async def take(self, action: str, key: str, actor_id: str) -> AlreadyUsed | None:
        """Claim ``key`` for ``actor_id``: None when this caller won, else who used it."""
        if await self.claims.claim(key, actor_id):
            return None
        return AlreadyUsed(action, await self.claims.get(key))

    async def done(self, key: str, outcome: str, message: str = "") -> None:
        """Record how the claimed action ended (``ok`` / ``failed``)."""
        await self.claims.finish(key, outcome, message)

    async def free(self, key: str) -> None:
        """Drop the claim of an action that did not happen, so the button works again."""
        await self.claims.release(key)
