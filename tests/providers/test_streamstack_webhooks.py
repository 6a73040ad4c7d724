"""Parsing and verifying StreamStack webhooks, using bodies the simulator really sent."""

from __future__ import annotations

import pytest

from bot.errors import AuthFailed, InvalidRequest
from bot.providers.streamstack_webhooks import parse_event, signature_of, verify_signature
from tests.providers.streamstack_fixtures import client_for, make_sim, served, webhook_sink

SECRET = "whsec-unit"


async def test_simulator_deliveries_parse_and_verify() -> None:
    """Each signed body the simulator POSTed verifies and parses to a typed event."""
    async with webhook_sink() as sink:
        sim = make_sim(webhook_url=sink.url, webhook_secret=SECRET)
        async with served(sim) as url, client_for(url) as client:
            media = await client.upload_from_url(title="Hooked", url="https://example.com/v.mp4")
            await sim.wait_idle()
    events = []
    for body, headers in sink.received:
        verify_signature(body, headers["x-streamstack-signature"], SECRET)
        events.append(parse_event(body))
    assert [e.event for e in events] == ["media.uploaded", "media.transcoded", "media.published"]
    assert {e.uuid for e in events} == {media.uuid}
    last = events[-1]
    assert last.media is not None and last.media.status == "published"
    assert last.timestamp is not None


@pytest.mark.parametrize("header", [None, "", "sha256=00", "sha1=abc"])
def test_a_missing_or_wrong_signature_is_refused(header: str | None) -> None:
    """Verification fails with AuthFailed unless the HMAC of the exact body matches."""
    with pytest.raises(AuthFailed):
        verify_signature(b'{"event":"media.uploaded"}', header, SECRET)


def test_a_tampered_body_fails_verification() -> None:
    """A signature made for one body does not verify a changed body."""
    good = signature_of(b'{"uuid":"a"}', SECRET)
    verify_signature(b'{"uuid":"a"}', good, SECRET)
    with pytest.raises(AuthFailed):
        verify_signature(b'{"uuid":"b"}', good, SECRET)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"event":"media.deleted","uuid":"a"}', b'{"event":"media.failed"}'],
)
def test_unusable_bodies_are_invalid_requests(body: bytes) -> None:
    """Non-JSON, non-objects, unknown events and uuid-less events raise InvalidRequest."""
    with pytest.raises(InvalidRequest):
        parse_event(body)


def test_an_event_without_data_still_parses() -> None:
    """A minimal event with only a name and a uuid is accepted, without media."""
    event = parse_event(b'{"event":"media.failed","uuid":"u1"}')
    assert (event.event, event.uuid, event.media, event.timestamp) == (
        "media.failed",
        "u1",
        None,
        None,
    )
