"""Build Slack requests the way Slack does: real payload shapes, real signatures."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from slack_sdk.signature import SignatureVerifier

from tests.conftest import SLACK_PAYLOADS

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
TEAM_ID = "T0G9PQBBK"
_IDS = itertools.count(1)


def signed_headers(
    body: bytes,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack would send with ``body``, signed with ``secret``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def _saved(name: str) -> str:
    path = SLACK_PAYLOADS / name
    if path.exists():
        return path.read_text()
    return (Path(__file__).parent / "payloads" / name).read_text()


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = "U2CERLKJA",
    user_name: str = "roadrunner",
    channel_id: str = "C0CHANNEL1",
    response_url: str = "http://127.0.0.1:9/response/cmd",
    trigger_id: str | None = None,
) -> bytes:
    """A form-encoded slash command, shaped like Slack's saved ``slash_command.txt``."""
    fields = dict(parse_qsl(_saved("slash_command.txt").strip(), keep_blank_values=True))
    fields.update(
        team_id=TEAM_ID,
        command=command,
        text=text,
        user_id=user_id,
        user_name=user_name,
        channel_id=channel_id,
        response_url=response_url,
        trigger_id=trigger_id or fresh_id(),
    )
    return urlencode(fields).encode()


def block_actions(
    action_id: str,
    value: str,
    *,
    user_id: str = "U111",
    channel_id: str = "C0CHANNEL1",
    message_ts: str = "1678252213.679169",
    message_blocks: list[dict[str, Any]] | None = None,
    response_url: str = "http://127.0.0.1:9/response/action",
    block_id: str = "b1",
    trigger_id: str | None = None,
    select: bool = False,
) -> bytes:
    """A form-encoded ``block_actions`` payload shaped like Slack's saved sample.

    With ``select`` the action is a static_select whose chosen option's value is ``value``.
    """
    payload: dict[str, Any] = json.loads(_saved("block_actions.json"))
    payload["user"] = {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID}
    payload["team"] = {"id": TEAM_ID}
    payload["channel"] = {"id": channel_id}
    payload["container"].update(channel_id=channel_id, message_ts=message_ts)
    payload["message"]["ts"] = message_ts
    if message_blocks is not None:
        payload["message"]["blocks"] = message_blocks
    payload["response_url"] = response_url
    if trigger_id is not None:
        payload["trigger_id"] = trigger_id
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "type": "button",
            "text": {"type": "plain_text", "text": action_id},
            "action_ts": f"{time.time():.6f}",
        }
    ]
    if select:
        action = payload["actions"][0]
        del action["value"], action["text"]
        action["type"] = "static_select"
        option = {"text": {"type": "plain_text", "text": value}, "value": value}
        action["selected_option"] = option
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_submission(
    callback_id: str,
    private_metadata: str,
    values: dict[str, Any] | None = None,
    *,
    user_id: str = "U111",
) -> bytes:
    """A form-encoded ``view_submission`` payload shaped like Slack's saved sample."""
    payload: dict[str, Any] = json.loads(_saved("view_submission.json"))
    payload["user"] = {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID}
    payload["team"] = {"id": TEAM_ID, "domain": "test"}
    payload["view"]["callback_id"] = callback_id
    payload["view"]["private_metadata"] = private_metadata
    payload["view"]["state"] = {"values": values or {}}
    return urlencode({"payload": json.dumps(payload)}).encode()


def fresh_id() -> str:
    """A new ``trigger_id``-shaped value: Slack issues one per invocation."""
    return f"{time.time_ns()}.{next(_IDS)}.{secrets.token_hex(16)}"


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """A JSON Events API envelope around ``event``."""
    envelope = {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A111",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(6).upper()}",
        "event_time": int(time.time()),
    }
    return json.dumps(envelope).encode()


def message_action(
    callback_id: str,
    message: dict[str, Any],
    *,
    user_id: str = "U111",
    channel_id: str = "C0CHANNEL1",
    response_url: str = "http://127.0.0.1:9/response/shortcut",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> bytes:
    """A form-encoded ``message_action`` (message shortcut) shaped like Slack's documented one."""
    payload: dict[str, Any] = {
        "type": "message_action",
        "token": "verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "channel": {"id": channel_id, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message.get("ts", ""),
        "message": {"type": "message", **message},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()
