"""manifest.yml is a valid Slack app manifest that declares what the bot serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import SLACK_PAYLOADS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SLACK_PAYLOADS / "manifest-schema" / "schemas" / "manifest.schema.1.0.0.json"


@pytest.fixture
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return data


def test_manifest_validates_against_slack_schema(manifest: dict[str, Any]) -> None:
    """The manifest passes Slack's published JSON schema (v1)."""
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not at {SCHEMA}")
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_schema_check_rejects_a_broken_manifest(manifest: dict[str, Any]) -> None:
    """The schema check can fail: a command without its leading slash is rejected."""
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not at {SCHEMA}")
    manifest["features"]["slash_commands"][0]["command"] = "build"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_manifest_declares_every_command_on_slack_events(manifest: dict[str, Any]) -> None:
    """All five commands, interactivity and events point at /slack/events; socket mode is off."""
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/build", "/media", "/live", "/audit", "/streamops"}
    assert all(c["url"].endswith("/slack/events") for c in commands.values())
    settings = manifest["settings"]
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "message.im"]
    assert settings["socket_mode_enabled"] is False
    assert {"commands", "chat:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
