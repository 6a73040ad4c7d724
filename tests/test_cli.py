"""The command line: readable settings errors and the database commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAMOPS_"))}
    clean.pop("DATABASE_URL", None)
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_setting_is_one_readable_line(tmp_path: Path) -> None:
    """Start-up without SLACK_BOT_TOKEN prints one line naming it and exits 2."""
    result = _run(["serve", "--no-migrate"], {}, tmp_path)  # `db` commands need no Slack
    assert result.returncode == 2
    assert result.stderr.strip() == "streamops: missing required setting SLACK_BOT_TOKEN"
    assert "Traceback" not in result.stderr


def test_invalid_setting_names_the_setting(tmp_path: Path) -> None:
    """A malformed value names the setting and the problem, not a traceback."""
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "STREAMOPS_HTTP_TIMEOUT": "soon"}
    result = _run(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 2
    assert "invalid setting STREAMOPS_HTTP_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr


def test_socket_mode_without_app_token_is_refused(tmp_path: Path) -> None:
    """`serve --socket-mode` without SLACK_APP_TOKEN names the missing setting."""
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "STREAMOPS_ENV": "development"}
    result = _run(["serve", "--socket-mode", "--port", "0"], env, tmp_path)
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr


def test_serve_in_production_without_an_audit_key_is_refused(tmp_path: Path) -> None:
    """`serve` in production mode (the default) will not start without STREAMOPS_AUDIT_KEY."""
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"}
    result = _run(["serve", "--port", "0"], env, tmp_path)
    assert result.returncode == 2
    assert "STREAMOPS_AUDIT_KEY" in result.stderr and "streamops audit keygen" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_audit_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """A key too short to be safe is refused by name, and its value is not printed."""
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "STREAMOPS_AUDIT_KEY": "c2hvcnQ"}
    result = _run(["db", "current"], env, tmp_path)
    assert result.returncode == 2
    assert "invalid setting STREAMOPS_AUDIT_KEY" in result.stderr
    assert "c2hvcnQ" not in result.stderr


def test_keygen_prints_a_usable_key(tmp_path: Path) -> None:
    """`audit keygen` needs no settings and prints a key the settings accept."""
    result = _run(["audit", "keygen"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert "key id" in result.stderr
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "STREAMOPS_AUDIT_KEY": key}
    assert _run(["db", "upgrade"], env, tmp_path).returncode == 0


@pytest.mark.parametrize("step", ["upgrade", "current"])
def test_db_commands_on_a_fresh_sqlite_file(tmp_path: Path, step: str) -> None:
    """`db upgrade` creates the schema in the default ./streamops.db; `db current` agrees."""
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"}
    first = _run(["db", "upgrade"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "streamops.db").exists()
    if step == "current":
        current = _run(["db", "current"], env, tmp_path)
        assert current.returncode == 0, current.stdout + current.stderr
        assert "code expects" in current.stdout


def _help(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    from bot.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([*args, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_is_written_for_users(capsys: pytest.CaptureFixture[str]) -> None:
    """`streamops --help` says what StreamOps is and where to start, not how the code works."""
    text = _help([], capsys)
    assert text.startswith("usage: streamops")
    assert "StreamOps runs your Streampixel builds" in text
    assert "streamops demo --web" in text and "streamops serve" in text
    for developer_word in ("async function", "subcommand sets", "``", "Namespace"):
        assert developer_word not in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["demo"], "Every run starts from a clean, empty database."),
        (["serve"], "at least SLACK_BOT_TOKEN"),
        (["db"], "DATABASE_URL"),
        (["db", "upgrade"], "bring them up to date"),
        (["db", "current"], "exit 1 when they differ"),
        (["sandbox"], "--webhook-url URL"),
    ],
)
def test_each_command_help_explains_itself(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command's help has a description for users and every option a sentence."""
    text = _help(args, capsys)
    assert says in text
    assert "``" not in text


def test_every_command_and_step_has_a_description() -> None:
    """Each `streamops … --help`, features' commands included, opens with a sentence."""
    import argparse

    from bot.cli import build_parser

    def walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
        missing = [] if parser.description else [path]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    missing += walk(child, f"{path} {name}")
        return missing

    assert walk(build_parser(), "streamops") == []


def test_serve_starts_with_the_collector_off_and_freeze_turns_it_back_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`streamops serve` builds its app with the cyclic collector off (start-up only
    allocates); bot.server.freeze_startup_heap freezes that heap and enables it again, and
    every other command runs with it on."""
    import gc

    from bot import cli
    from bot.server import freeze_startup_heap

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("STREAMOPS_ENV", "development")
    seen: dict[str, bool] = {}

    def runner() -> Any:
        def run(coro: Any) -> int:
            coro.close()  # the command itself is not run here
            seen["during"] = gc.isenabled()
            return 0

        return run

    monkeypatch.setattr(cli, "_event_loop_runner", runner)
    assert gc.isenabled()
    assert cli.main(["serve", "--no-migrate"]) == 0
    assert seen["during"] is False
    assert gc.isenabled()  # enabled again however the command ended
    assert cli.main(["db", "current"]) == 0
    assert seen["during"] is True

    gc.disable()
    frozen = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.enable()
