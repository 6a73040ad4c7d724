"""manifest.yml is a valid Slack app manifest that declares what the bot serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.sandbox import slack_limits
from tests.conftest import SLACK_METHODS_CALLED, SLACK_PAYLOADS, whole_suite_collected

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


def test_audit_escapes_mentions(manifest: dict[str, Any]) -> None:
    """`/audit user=@name` arrives as `<@U…>` only when Slack escapes it for us."""
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert commands["/audit"]["should_escape"] is True


def test_every_manifest_scope_is_explained_in_the_readme(manifest: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in readme, f"README does not say why the app needs {scope}"


def test_manifest_scopes_match_what_the_suite_calls(
    manifest: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    """Every Web API method the suite called needs a requested scope, and no scope is spare.

    Runs last (conftest moves it) and only judges a run of the whole suite, because
    the methods come from every test that talked to a fake Slack.
    """
    if not whole_suite_collected(request.config):
        pytest.skip("judged only when the whole suite runs (it collects every test's calls)")
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    needed: set[str] = set(slack_limits.NON_METHOD_SCOPES)
    unscoped = []
    for method in sorted(SLACK_METHODS_CALLED):
        allowed = slack_limits.METHOD_SCOPES.get(method)
        if allowed is None:
            if method not in slack_limits.SCOPELESS_METHODS:
                unscoped.append(method)
            continue
        chosen = allowed & granted
        assert chosen, f"{method} needs one of {sorted(allowed)}; the manifest has none"
        needed |= chosen
    assert not unscoped, f"add these methods to slack_limits.METHOD_SCOPES: {unscoped}"
    assert granted == needed, (
        f"spare scopes: {sorted(granted - needed)}; missing: {sorted(needed - granted)} "
        f"(methods called: {sorted(SLACK_METHODS_CALLED)})"
    )
