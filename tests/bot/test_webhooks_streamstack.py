"""StreamStack webhooks through bot.webhooks, with bodies the simulator really sent."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.webhooks.parse import parse_streamstack
from bot.webhooks.signatures import (
    STREAMSTACK_SIGNATURE_HEADER,
    streamstack_signature,
    streamstack_signature_valid,
)
from tests.providers.streamstack_fixtures import client_for, make_sim, served, webhook_sink

SECRET = "whsec-unit"


async def test_simulator_deliveries_verify_and_parse() -> None:
    """Each signed body the simulator POSTed verifies and parses to a known event on the video."""
    async with webhook_sink() as sink:
        sim = make_sim(webhook_url=sink.url, webhook_secret=SECRET)
        async with served(sim) as url, client_for(url) as client:
            media = await client.upload_from_url(title="Hooked", url="https://example.com/v.mp4")
            await sim.wait_idle()
    events = []
    for body, headers in sink.received:
        assert streamstack_signature_valid(
            body, headers[STREAMSTACK_SIGNATURE_HEADER.lower()], SECRET
        )
        events.append(parse_streamstack(body))
    assert [e.event for e in events] == ["media.uploaded", "media.transcoded", "media.published"]
    assert all(e.known for e in events)
    assert {e.subject for e in events} == {media.uuid}
    last = events[-1].notification
    assert last.status == "published" and last.title == "Hooked"
    assert last.timestamp is not None


@pytest.mark.parametrize("header", [None, "", "sha256=00", "sha1=abc"])
def test_a_missing_or_wrong_signature_is_refused(header: str | None) -> None:
    """Verification fails unless the header is the HMAC of the exact body."""
    assert not streamstack_signature_valid(b'{"event":"media.uploaded"}', header, SECRET)


def test_a_tampered_body_fails_verification() -> None:
    """A signature made for one body does not verify a changed body."""
    good = streamstack_signature(b'{"uuid":"a"}', SECRET)
    assert streamstack_signature_valid(b'{"uuid":"a"}', good, SECRET)
    assert not streamstack_signature_valid(b'{"uuid":"b"}', good, SECRET)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"event":"media.failed"}'])
def test_unusable_bodies_are_invalid_input(body: bytes) -> None:
    """Non-JSON, non-objects and uuid-less events raise InvalidInput."""
    with pytest.raises(InvalidInput):
        parse_streamstack(body)


def test_an_unknown_event_parses_but_is_not_known() -> None:
    """An event name StreamStack does not document is kept (known False), not posted."""
    event = parse_streamstack(b'{"event":"media.deleted","uuid":"a"}')
    assert (event.event, event.known, event.subject_key) == ("media.deleted", False, "")


def test_an_event_without_data_still_parses() -> None:
    """A minimal event with only a name and a uuid is accepted, with no video details."""
    event = parse_streamstack(b'{"event":"media.failed","uuid":"u1"}')
    assert (event.event, event.subject, event.known) == ("media.failed", "u1", True)
    assert (event.notification.title, event.notification.timestamp) == (None, None)
