"""The StreamStack API key never reaches logs, exception text or reprs (canary test)."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest

from bot.errors import Forbidden, ProviderError, ProviderNotFound, ProviderUnavailable
from bot.sandbox.streamstack import StageDelays, StreamStackSimulator
from tests.providers.streamstack_fixtures import (
    FakeClock,
    client_for,
    served,
    settings_for,
    webhook_sink,
)

CANARY = "ss_CANARY_7f3a9c1e_do_not_log"
LOGGERS = ("", "httpx", "httpcore", "httpcore.http11", "httpcore.connection", "uvicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


async def test_the_key_appears_in_no_log_line_exception_or_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With root, httpx and httpcore at DEBUG, real calls and failures never show the key."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    sim = StreamStackSimulator(
        tenants={CANARY: "acme", "other-tenant-key": "globex"},
        clock=FakeClock(),
        delays=StageDelays(transcode=0, publish=0),
    )
    theirs = sim.seed_media("globex", "Theirs")
    raised: list[ProviderError] = []
    async with webhook_sink() as sink:
        sim.webhook_url = sink.url
        async with served(sim) as url, client_for(url, CANARY) as client:
            target = await client.presign_upload(title="Canary", filename="c.mp4")
            await client.upload_bytes(target, b"bytes")
            await sim.wait_idle()
            await client.list_all()
            await client.stats(target.uuid, "all")
            for call, exc_type in (
                (client.get_media("missing"), ProviderNotFound),
                (client.delete_media(theirs.uuid), Forbidden),
            ):
                with pytest.raises(exc_type) as info:
                    await call
                raised.append(info.value)
            client_repr = repr(client)
    async with client_for(f"http://127.0.0.1:{_free_port()}", CANARY) as dead:
        with pytest.raises(ProviderUnavailable) as down:
            await dead.list_media()
        raised.append(down.value)
    assert any(r.name.startswith("httpx") for r in caplog.records), "httpx did not log"
    assert any(r.name.startswith("httpcore") for r in caplog.records), "httpcore did not log"
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.__dict__)
    assert CANARY not in caplog.text
    for exc in raised:
        assert CANARY not in _text(exc)
    assert CANARY not in client_repr
    assert CANARY not in repr(settings_for("https://streamstack.it", CANARY))
    assert CANARY not in repr(sim)
    token = sim.media[target.uuid].upload_token
    assert token and token not in caplog.text, "presigned upload token leaked into logs"


def test_the_simulator_repr_hides_the_webhook_secret() -> None:
    """The simulator's repr names tenants but not keys or the webhook secret."""
    sim = StreamStackSimulator(tenants={CANARY: "acme"}, webhook_secret="whsec-" + CANARY)
    assert "acme" in repr(sim) and CANARY not in repr(sim)
