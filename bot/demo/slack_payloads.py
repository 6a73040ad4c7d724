"""Requests as Slack sends them: slash commands, button clicks, modal submissions, signed.

The shapes follow Slack's documented payloads (form-encoded slash commands;
``payload=<json>`` for interactivity) and every body is signed with the app's
signing secret (``v0=HMAC-SHA256("v0:<ts>:<body>")``), so the bot verifies
them exactly as it verifies Slack.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0STREAMOPS"
TEAM_DOMAIN = "streamops-demo"
API_APP_ID = "A0STREAMOPS"


@dataclass(frozen=True)
class SignedRequest:
    """A body and the headers Slack would send with it."""

    body: bytes
    headers: dict[str, str]


@dataclass
class SlackRequests:
    """Builds signed Slack requests for one workspace.

    Args:
        signing_secret: the app's signing secret (the bot's ``SLACK_SIGNING_SECRET``).
        clock: seconds since the epoch, for the request timestamp.
        issue_trigger_id: where ``trigger_id`` values come from (the fake Slack issues them,
            and refuses any it did not issue or that is older than 3 s).
    """

    signing_secret: str = field(repr=False)
    clock: Callable[[], float] = time.time
    issue_trigger_id: Callable[[], str] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def sign(self, body: bytes) -> SignedRequest:
        """Sign a form-encoded ``body`` the way Slack does."""
        ts = str(int(self.clock()))
        verifier = SignatureVerifier(self.signing_secret)
        signature = str(verifier.generate_signature(timestamp=ts, body=body))
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return SignedRequest(body, headers)

    def trigger_id(self) -> str:
        """A fresh ``trigger_id`` (lets the bot open a modal)."""
        if self.issue_trigger_id is not None:
            return self.issue_trigger_id()
        return f"{next(self._ids)}.{int(self.clock())}.{secrets.token_hex(8)}"

    def slash_command(
        self, command: str, text: str, *, user_id: str, user_name: str, channel_id: str,
        channel_name: str, response_url: str, trigger_id: str | None = None,
    ) -> SignedRequest:  # fmt: skip
        """A slash command, form-encoded like Slack's."""
        fields = {
            "token": "demo-verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "response_url": response_url,
            "trigger_id": trigger_id or self.trigger_id(),
        }
        return self.sign(urlencode(fields).encode())

    def block_actions(
        self, *, user_id: str, user_name: str, channel_id: str, message: dict[str, Any],
        action: dict[str, Any], response_url: str, is_ephemeral: bool,
        trigger_id: str | None = None,
    ) -> SignedRequest:  # fmt: skip
        """A button click on ``message`` (which needs ``ts``, ``text`` and ``blocks``)."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
            "api_app_id": API_APP_ID,
            "token": "demo-verification-token",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": trigger_id or self.trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "message": {"type": "message", **message},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [{**action, "action_ts": f"{self.clock():.6f}"}],
        }
        return self.sign(urlencode({"payload": json.dumps(payload)}).encode())

    def view_block_actions(
        self, *, user_id: str, user_name: str, view: dict[str, Any], action: dict[str, Any],
        values: dict[str, Any], trigger_id: str | None = None,
    ) -> SignedRequest:  # fmt: skip
        """A click on a button in a modal or the App Home tab (``view`` needs ``id``)."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
            "api_app_id": API_APP_ID,
            "token": "demo-verification-token",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": trigger_id or self.trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {**view, "state": {"values": values}, "team_id": TEAM_ID, "app_id": API_APP_ID},
            "actions": [{**action, "action_ts": f"{self.clock():.6f}"}],
        }
        return self.sign(urlencode({"payload": json.dumps(payload)}).encode())

    def view_closed(self, *, user_id: str, user_name: str, view: dict[str, Any]) -> SignedRequest:
        """The user closed a modal that asked to be told (``notify_on_close``)."""
        payload: dict[str, Any] = {
            "type": "view_closed",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
            "api_app_id": API_APP_ID,
            "token": "demo-verification-token",
            "view": {**view, "team_id": TEAM_ID, "app_id": API_APP_ID},
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        return self.sign(urlencode({"payload": json.dumps(payload)}).encode())

    def event(self, event: dict[str, Any]) -> SignedRequest:
        """An Events API callback carrying ``event`` (JSON, signed like everything else)."""
        number = next(self._ids)
        body = {
            "token": "demo-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": API_APP_ID,
            "event": {**event, "event_ts": f"{self.clock():.6f}"},
            "type": "event_callback",
            "event_id": f"Ev{number:010d}",
            "event_time": int(self.clock()),
        }
        signed = self.sign(json.dumps(body).encode())
        return SignedRequest(signed.body, {**signed.headers, "Content-Type": "application/json"})

    def view_submission(
        self, *, user_id: str, user_name: str, view: dict[str, Any], values: dict[str, Any]
    ) -> SignedRequest:
        """A modal submission of ``view`` with ``values`` as its ``state.values``."""
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
            "api_app_id": API_APP_ID,
            "token": "demo-verification-token",
            "trigger_id": self.trigger_id(),
            "view": {**view, "state": {"values": values}, "team_id": TEAM_ID, "app_id": API_APP_ID},
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return self.sign(urlencode({"payload": json.dumps(payload)}).encode())
