"""The StreamStack simulator's own behaviour: auth, upload targets, limits, pipelines."""

from __future__ import annotations

import asyncio
import socket

import httpx

from bot.providers.streamstack import from_settings
from bot.sandbox.streamstack import (
    DEMO_API_KEY,
    OTHER_TENANT_API_KEY,
    StageDelays,
    StreamStackSimulator,
    create_app,
)
from bot.serving import serve_in_background
from tests.providers.streamstack_fixtures import (
    KEY_A,
    FakeClock,
    client_for,
    make_sim,
    served,
    settings_for,
    webhook_sink,
)

AUTH = {"Authorization": f"Bearer {KEY_A}"}


async def test_requests_without_a_bearer_key_are_401() -> None:
    """No header, a non-bearer scheme and an unknown key all get the documented 401 body."""
    async with served(make_sim()) as url, httpx.AsyncClient(base_url=url) as http:
        replies = [
            await http.get("/api/v1/media"),
            await http.get("/api/v1/media", headers={"Authorization": f"Basic {KEY_A}"}),
            await http.get("/api/v1/media", headers={"Authorization": "Bearer nope"}),
        ]
    assert [r.status_code for r in replies] == [401, 401, 401]
    assert all(r.json() == {"message": "Invalid or missing API key"} for r in replies)


async def test_the_upload_target_checks_token_expiry_and_reuse() -> None:
    """A wrong token or an expired URL is 403, a second PUT 409, an unknown uuid 404."""
    clock = FakeClock()
    sim = make_sim(clock)
    async with served(sim) as url, httpx.AsyncClient(base_url=url) as http:
        made = await http.post(
            "/api/v1/upload/presign",
            headers=AUTH,
            json={"title": "T", "filename": "t.mp4", "content_type": "video/mp4"},
        )
        assert made.status_code == 201
        target = made.json()["upload_url"]
        uuid = made.json()["uuid"]
        wrong = await http.put(f"/uploads/{uuid}?token=guess", content=b"x")
        unknown = await http.put("/uploads/nope?token=guess", content=b"x")
        first = await http.put(target, content=b"x")
        again = await http.put(target, content=b"x")
        late = await http.post(
            "/api/v1/upload/presign",
            headers=AUTH,
            json={"title": "L", "filename": "l.mp4", "content_type": "video/mp4"},
        )
        clock.advance(3601)
        expired = await http.put(late.json()["upload_url"], content=b"x")
        await sim.wait_idle()
    assert (wrong.status_code, unknown.status_code) == (403, 404)
    assert (first.status_code, again.status_code, expired.status_code) == (200, 409, 403)
    assert sim.media[uuid].status == "published"


async def test_the_token_bucket_refills_at_thirty_per_second() -> None:
    """Thirty requests pass the next is 429 with Retry-After: 1, and 1 s later one passes."""
    clock = FakeClock()
    async with served(make_sim(clock)) as url, httpx.AsyncClient(base_url=url) as http:
        statuses = [(await http.get("/api/v1/media", headers=AUTH)).status_code for _ in range(30)]
        limited = await http.get("/api/v1/media", headers=AUTH)
        clock.advance(1.0)
        after = await http.get("/api/v1/media", headers=AUTH)
    assert statuses == [200] * 30
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.json() == {"message": "Rate limit exceeded (30 req/s)"}
    assert after.status_code == 200


async def test_an_oversized_json_body_is_413() -> None:
    """A request body above the simulator's JSON limit is refused with 413."""
    sim = make_sim(max_body_bytes=100)
    async with served(sim) as url, httpx.AsyncClient(base_url=url) as http:
        reply = await http.post(
            "/api/v1/upload/url", headers=AUTH, json={"title": "x" * 200, "url": "https://e/v"}
        )
    assert reply.status_code == 413 and reply.json() == {"message": "File too large"}


async def test_unknown_paths_answer_json_404() -> None:
    """A path StreamStack does not serve answers 404 in the same JSON error format."""
    async with served(make_sim()) as url, httpx.AsyncClient(base_url=url) as http:
        reply = await http.get("/api/v2/whatever", headers=AUTH)
    assert reply.status_code == 404 and reply.json() == {"message": "Resource not found"}


async def test_demo_data_has_two_tenants_with_videos() -> None:
    """with_demo_data seeds tenant acme with three videos and globex with one."""
    sim = StreamStackSimulator.with_demo_data(delays=StageDelays(0, 0))
    async with served(sim) as url:
        async with client_for(url, DEMO_API_KEY) as acme:
            mine = await acme.list_all()
        async with client_for(url, OTHER_TENANT_API_KEY) as globex:
            theirs = await globex.list_all()
    assert sorted(m.status for m in mine) == ["failed", "processing", "published"]
    assert [m.title for m in theirs] == ["Globex factory tour"]


async def test_a_dead_webhook_target_is_recorded_once_without_retry() -> None:
    """Deliveries to a closed port are recorded with the error, one per event, never retried."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sim = make_sim(webhook_url=f"http://127.0.0.1:{port}/hook")
    async with served(sim) as url, client_for(url) as client:
        await client.upload_from_url(title="Nobody listens", url="https://example.com/v.mp4")
        await sim.wait_idle()
    assert [d.event for d in sim.deliveries] == [
        "media.uploaded",
        "media.transcoded",
        "media.published",
    ]
    assert all(d.status_code is None and d.error == "ConnectError" for d in sim.deliveries)


async def test_deleting_during_transcode_stops_the_pipeline() -> None:
    """A video deleted while transcoding emits no further webhooks."""
    gate = asyncio.Event()
    transcoding = asyncio.Event()

    async def wait_for_gate(_: float) -> None:
        transcoding.set()
        await gate.wait()

    async with webhook_sink() as sink:
        sim = make_sim(webhook_url=sink.url, sleep=wait_for_gate)
        async with served(sim) as url, client_for(url) as client:
            media = await client.upload_from_url(title="Gone", url="https://example.com/v.mp4")
            await transcoding.wait()
            await client.delete_media(media.uuid)
            gate.set()
            await sim.wait_idle()
    assert sink.events() == ["media.uploaded"]


async def test_shutdown_cancels_running_pipelines() -> None:
    """Stopping the server ends a pipeline stuck in a long transcode, without errors."""
    sim = make_sim(delays=StageDelays(transcode=3600, publish=0), sleep=asyncio.sleep)
    async with serve_in_background(create_app(sim)) as server:
        client = from_settings(settings_for(server.url, KEY_A))
        assert client is not None
        media = await client.upload_from_url(title="Long", url="https://example.com/v.mp4")
        await client.aclose()
        assert sim.media[media.uuid].status == "processing"
    await asyncio.wait_for(sim.wait_idle(), timeout=5)
    assert sim.media[media.uuid].status == "processing"
