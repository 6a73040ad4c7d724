"""The fake Slack, watched: every answered call and ``response_url`` post feeds a workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.demo.workspace import Workspace
from bot.sandbox.slack import FakeSlack, SlackCall


@dataclass
class ObservedSlack(FakeSlack):
    """A :class:`FakeSlack` that tells :attr:`workspace` what it answered.

    Web API calls are reported with the fake's answer (so a refused call shows nothing
    and a posted message keeps the ``ts`` the bot was given); ``response_url`` posts
    through a listener.
    """

    workspace: Workspace = field(default_factory=lambda: Workspace({}, {}))

    def __post_init__(self) -> None:
        self.listeners.append(self._on_call)

    def handle(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer as the fake Slack does, then show the outcome in the workspace."""
        result = super().handle(method, payload)
        self.workspace.api_call(method, payload, result)
        return result

    def _on_call(self, call: SlackCall) -> None:
        if call.method != "response_url" or getattr(call, "error", None):
            return  # (a refused post, where the fake records refusals, is not shown)
        rid = str(call.payload.get("_response_id", ""))
        self.workspace.response_url(rid, call.payload)
