"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from handlers import ack_answer
from storage import migrate
from storage.db import Database

# Property tests: a small, quick default; `HYPOTHESIS_PROFILE=thorough` draws 10,000 fresh
# examples for every property. The `slow`-marked tests (`pytest -m slow`, not in the default
# run) ask for 10,000 examples themselves (tests/fidelity/test_*_fuzz.py).
settings.register_profile(
    "default",
    max_examples=25,
    # The same examples every run, so CI cannot fail by the luck of the draw; the
    # thorough profile draws afresh and is where new hostile inputs are found.
    derandomize=True,
    deadline=None,
    # No shrinking by default (it can take minutes); the thorough profile shrinks.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


POSTGRES_URL = os.environ.get("STREAMOPS_TEST_POSTGRES_URL")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SLACK_PAYLOADS = SHARED / "research" / "slack-payloads"

_BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL,
            reason="STREAMOPS_TEST_POSTGRES_URL is not set: PostgreSQL run skipped",
        ),
    ),
]


#: Web API methods the suite called on any fake Slack and that it accepted (see test_manifest).
SLACK_METHODS_CALLED: set[str] = set()
_NOT_A_GRANT = {
    "missing_scope",
    "unknown_method",
    "invalid_auth",
    "not_authed",
    "not_allowed_token_type",
    "access_denied",
}
_TESTS = Path(__file__).resolve().parent
_WHOLE_SUITE = pytest.StashKey[bool]()


_CLI_LOGGERS = ("", "streamops.bolt", "slack_bolt", "httpx")


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """Undo what an in-process ``streamops`` command does to logging (levels, root handlers).

    ``streamops demo`` quiets ``streamops.bolt`` to ERROR for its chat window; left so, a
    later test's ``caplog`` would never see that logger's warnings.
    """
    levels = {name: logging.getLogger(name).level for name in _CLI_LOGGERS}
    handlers = list(logging.getLogger().handlers)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().handlers[:] = handlers


@pytest.fixture
def answers_after_ack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands ack empty and answer through ``response_url``, however fast their answer.

    For tests about ``response_url`` itself (its limits, its refusals, its follow-ups);
    by default a command answers in its ack when the answer is ready in time.
    """
    monkeypatch.setattr(ack_answer, "ANSWER_IN_ACK_SECONDS", 0.0)


@pytest.fixture(autouse=True, scope="session")
def _collect_slack_methods() -> None:
    """Record every Web API method any fake Slack answered during the session."""
    from bot.sandbox.slack import FakeSlack, SlackCall

    def observe(call: SlackCall) -> None:
        if call.error not in _NOT_A_GRANT and call.method not in ("response_url", "file_upload"):
            SLACK_METHODS_CALLED.add(call.method)

    if observe not in FakeSlack.observers:
        FakeSlack.observers.append(observe)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the manifest-vs-suite scope check last, and only judge it when every module ran."""
    modules = {Path(str(item.fspath)) for item in items}
    every = set(_TESTS.rglob("test_*.py"))
    config.stash[_WHOLE_SUITE] = every <= modules
    last = [i for i in items if i.name == "test_manifest_scopes_match_what_the_suite_calls"]
    for item in last:
        items.remove(item)
        items.append(item)


def whole_suite_collected(config: pytest.Config) -> bool:
    """Whether this run collected tests from every test module."""
    return config.stash.get(_WHOLE_SUITE, False)


def pytest_report_header() -> str:
    """Say up front whether the database tests also run on PostgreSQL."""
    if POSTGRES_URL:
        return "databases: SQLite and PostgreSQL (STREAMOPS_TEST_POSTGRES_URL)"
    return "databases: SQLite only; PostgreSQL run skipped: STREAMOPS_TEST_POSTGRES_URL is not set"


async def _postgres_schema_db(url: str) -> tuple[Database, str]:
    """A Database whose connections all live in a fresh, private schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    await admin.dispose()
    db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    return db, schema


async def _drop_schema(url: str, schema: str) -> None:
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    await admin.dispose()


def database_url_for(backend: str, tmp_path: Path) -> str:
    """The URL a test database of ``backend`` lives at."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'streamops.db'}"
    assert POSTGRES_URL
    return POSTGRES_URL


@pytest.fixture(params=_BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"``, and ``"postgresql"`` when STREAMOPS_TEST_POSTGRES_URL is set."""
    return str(request.param)


@pytest.fixture
async def empty_database(db_backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A real, empty database (no migrations applied)."""
    if db_backend == "sqlite":
        db = Database(database_url_for("sqlite", tmp_path))
        yield db
        await db.dispose()
        return
    assert POSTGRES_URL
    db, schema = await _postgres_schema_db(POSTGRES_URL)
    try:
        yield db
    finally:
        await db.dispose()
        await _drop_schema(POSTGRES_URL, schema)


@pytest.fixture
async def database(empty_database: Database) -> Database:
    """A real database with every migration applied."""
    await migrate.upgrade(empty_database)
    return empty_database


@pytest.fixture
async def bot(database: Database) -> AsyncIterator[Any]:
    """The real app on loopback HTTP, on a migrated database, talking to a fake Slack."""
    from tests.harness import running_bot

    async with running_bot(database) as running:
        yield running
