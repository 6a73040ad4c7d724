"""No StreamAPI key or secret reaches a log line, an exception or a repr (canary test)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.errors import AuthFailed, ProviderError
from bot.sandbox.streamapi import StreamAPISimulator
from tests.providers.streamapi_fixtures import FakeClock, client_for, served

CANARY_KEY = "CANARYKEY7f3a9c1e"
CANARY_SECRET = "CANARYSECRET5d2b8e4f"
LOGGERS = ("", "httpx", "httpcore", "streamops")


class Capture(logging.Handler):
    """Keeps every formatted record, with tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every log record at DEBUG (root, httpx, httpcore) for the test's duration."""
    handler = Capture()
    previous = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


async def test_canary_credentials_never_appear(captured: Capture) -> None:
    """Real calls, successes and failures, log at DEBUG without the key or the secret."""
    sim = StreamAPISimulator.with_demo_data(clock=FakeClock())
    sim.add_account(CANARY_KEY, CANARY_SECRET)
    errors: list[ProviderError] = []
    async with served(sim) as url:
        async with client_for(url, api_key=CANARY_KEY, secret=CANARY_SECRET) as client:
            texts = [repr(client)]
            session = await client.create_session(username="canary", fme_key="abc123")
            texts += [repr(session), repr(await client.themes())]
            texts.append(repr(await client.live_session(session.public_hostid)))
            sim.fail_next(100)
            texts.append(repr(await client.videos()))
            sim.fail_next(200)
            with pytest.raises(AuthFailed) as info:
                await client.live_sessions()
            errors.append(info.value)
        async with client_for(url, api_key=CANARY_KEY, secret="WRONG") as wrong:
            with pytest.raises(AuthFailed) as bad_sig:
                await wrong.themes()
            errors.append(bad_sig.value)
    logging.getLogger("streamops").exception("while calling StreamAPI", exc_info=errors[0])
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    # httpx did log the URLs, with the key in the query, and the filter masked it.
    assert any("HTTP Request: GET" in line and "key=***" in line for line in captured.lines)
    assert any(line.startswith("httpcore") for line in captured.lines)
    everything = "\n".join(captured.lines + texts)
    assert CANARY_KEY not in everything
    assert CANARY_SECRET not in everything
