"""The Streampixel simulator: pipeline, webhooks, check order and raw HTTP behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.providers.streampixel import retry_after_from
from bot.sandbox.streampixel import (
    DEMO_API_KEY,
    DEMO_OTHER_API_KEY,
    DEMO_OTHER_USER_ID,
    DEMO_USER_ID,
    StageTimings,
    StreampixelSimulator,
)
from tests.providers.streampixel_fixtures import (
    APPROVED_BUILD,
    BUILD_URL,
    CONFIGURATOR_DISABLED,
    PARTNER_OTHER_USER,
    RETAIL,
    SHOWROOM,
    FakeClock,
    RecordingSleep,
    Running,
    demo_simulator,
    running_simulator,
    webhook_receiver,
)

AUTO_RELEASE_ORDER = [
    ("build.uploaded", "pending"),
    ("build.downloading", "Downloading Files"),
    ("build.extracting", "Extracting & Scanning"),
    ("build.saving", "Saving to Repository"),
    ("build.distributing", "Distribute"),
    ("build.approved", "Approved"),
]
NOBODY = "000000000000000000000000"
NO_PROJECT = "ffffffffffffffffffffffff"
GOOD_KEY = {"userId": DEMO_USER_ID, "apiKey": DEMO_API_KEY}


@pytest.fixture
async def env() -> AsyncIterator[Running]:
    """A demo simulator on loopback, webhooks disabled."""
    async with running_simulator() as running:
        yield running


@pytest.fixture
async def http(env: Running) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client on the simulator's base URL."""
    async with httpx.AsyncClient(base_url=env.base_url) as client:
        yield client


async def _upload(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {**GOOD_KEY, "projectId": RETAIL, "fileUrl": BUILD_URL, **fields}
    return await http.post("/projects/upload-file", json=body)


async def test_auto_release_pipeline_emits_every_stage_in_order() -> None:
    """autoRelease true: uploaded → downloading → extracting → saving → distributing → approved."""
    async with webhook_receiver() as (receiver, url), running_simulator(url) as env:
        async with httpx.AsyncClient(base_url=env.base_url) as http:
            upload_id = (await _upload(http)).json()["uploadId"]
        await env.sim.drain()
    assert [(b["event"], b["status"]) for b in receiver.received] == AUTO_RELEASE_ORDER
    for body in receiver.received:
        assert (body["projectId"], body["uploadId"]) == (RETAIL, upload_id)
        assert (body["fileUrl"], body["objection"]) == (BUILD_URL, None)
    deliveries = env.sim.deliveries_for(upload_id)
    assert [(d.event, d.status_code, d.error) for d in deliveries] == [
        (event, 200, None) for event, _ in AUTO_RELEASE_ORDER
    ]


async def test_manual_release_waits_for_distribute_then_emits_distributing() -> None:
    """autoRelease false stops at approved; distribute-file then emits only build.distributing."""
    async with (
        webhook_receiver() as (receiver, url),
        running_simulator(url) as env,
        httpx.AsyncClient(base_url=env.base_url) as http,
    ):
        upload_id = (await _upload(http, autoRelease=False)).json()["uploadId"]
        await env.sim.drain()
        assert receiver.events == [
            "build.uploaded",
            "build.downloading",
            "build.extracting",
            "build.saving",
            "build.approved",
        ]
        body = {**GOOD_KEY, "projectId": RETAIL, "uploadId": upload_id}
        response = await http.post("/projects/distribute-file", json=body)
        assert response.json() == {"message": "Distribution triggered"}
        await env.sim.drain()
    assert receiver.events[5:] == ["build.distributing"]
    assert receiver.received[5]["status"] == "Distribute"
    assert env.sim.projects[RETAIL].live_upload_id == upload_id


@pytest.mark.parametrize("stage", ["downloading", "extracting", "saving"])
async def test_forced_failure_rejects_the_build_at_that_stage(stage: str) -> None:
    """fail_next_build(stage) ends with build.rejected after that stage, never distributing."""
    async with webhook_receiver() as (receiver, url), running_simulator(url) as env:
        env.sim.fail_next_build(stage, "Build contains unsupported file formats.")
        async with httpx.AsyncClient(base_url=env.base_url) as http:
            upload_id = (await _upload(http)).json()["uploadId"]
            await env.sim.drain()
            env.clock.advance(120)
            second = (await _upload(http)).json()["uploadId"]
            await env.sim.drain()
    events = [b["event"] for b in receiver.received if b["uploadId"] == upload_id]
    assert events[-2:] == [f"build.{stage}", "build.rejected"]
    assert "build.distributing" not in events
    rejected = receiver.received[len(events) - 1]
    assert (rejected["status"], rejected["objection"]) == (
        "Reject",
        "Build contains unsupported file formats.",
    )
    assert env.sim.uploads[upload_id].status == "Reject"
    assert env.sim.uploads[second].status == "Approved"  # only the next build fails


def test_builds_cannot_be_forced_to_fail_while_distributing() -> None:
    """Rejection at the distribute stage is refused: a rejected build never distributes."""
    with pytest.raises(ValueError, match="downloading, extracting, saving"):
        demo_simulator().fail_next_build("distributing")


async def test_stage_timings_are_what_the_pipeline_waits() -> None:
    """The pipeline waits each configured stage time, in order."""
    sleep = RecordingSleep()
    timings = StageTimings(downloading=4.0, extracting=3.0, saving=2.0, distributing=1.5)
    sim = demo_simulator(timings=timings, sleep=sleep)
    async with running_simulator(sim=sim) as env, httpx.AsyncClient(base_url=env.base_url) as http:
        await _upload(http)
        await env.sim.drain()
    assert sleep.waits == [4.0, 3.0, 2.0, 1.5]


async def test_failing_receiver_is_recorded_and_not_retried() -> None:
    """A receiver answering 503 gets each event once, and every attempt is recorded as 503."""
    async with webhook_receiver(status=503) as (receiver, url), running_simulator(url) as env:
        async with httpx.AsyncClient(base_url=env.base_url) as http:
            await _upload(http)
        await env.sim.drain()
    assert receiver.events == [event for event, _ in AUTO_RELEASE_ORDER]
    assert [d.status_code for d in env.sim.deliveries] == [503] * 6
    assert not any(d.ok for d in env.sim.deliveries)


@pytest.mark.parametrize(
    ("url", "error"),
    [("http://127.0.0.1:9/hooks", "ConnectError"), ("not a url", "UnsupportedProtocol")],
)
async def test_unreachable_receiver_is_recorded_with_status_zero(url: str, error: str) -> None:
    """A webhook URL that cannot be reached gives deliveries with status 0 and the error's name."""
    async with running_simulator(url) as env:
        async with httpx.AsyncClient(base_url=env.base_url) as http:
            await _upload(http)
        await env.sim.drain()
    assert [(d.status_code, d.error) for d in env.sim.deliveries] == [(0, error)] * 6
    assert len(env.sim.events) == 6


async def test_only_subscribed_events_are_delivered() -> None:
    """A project subscribed to approved/rejected only receives those events."""
    async with webhook_receiver() as (receiver, url), running_simulator(url) as env:
        env.sim.projects[RETAIL].webhook_events = frozenset({"build.approved", "build.rejected"})
        async with httpx.AsyncClient(base_url=env.base_url) as http:
            await _upload(http)
        await env.sim.drain()
    assert receiver.events == ["build.approved"]


async def test_shutdown_stops_running_pipelines() -> None:
    """Stopping the server cancels a pipeline stuck in a stage, leaving nothing running."""
    never = asyncio.Event()

    async def stuck(seconds: float) -> None:
        await never.wait()

    sim = demo_simulator(sleep=stuck)
    async with running_simulator(sim=sim) as env, httpx.AsyncClient(base_url=env.base_url) as http:
        await _upload(http)
        await asyncio.sleep(0)
        assert sim.busy
    assert not sim.busy
    assert sim.uploads[next(reversed(sim.uploads))].status == "Downloading Files"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        # 400 (missing field) beats a bad user.
        (
            {"userId": "000000000000000000000000", "fileUrl": ""},
            400,
            "Missing required field: fileUrl",
        ),
        # 401 Invalid User beats a bad key.
        ({"userId": NOBODY, "apiKey": "bad"}, 401, "Invalid User"),
        # 401 bad key beats an unknown project.
        (
            {"apiKey": "bad", "projectId": "ffffffffffffffffffffffff"},
            401,
            "Unauthorized: Invalid API Key",
        ),
        # 404 unknown project.
        ({"projectId": NO_PROJECT}, 404, "Project not found"),
        # 403 disabled project.
        ({"projectId": CONFIGURATOR_DISABLED}, 403, "Access denied"),
    ],
)
async def test_upload_checks_run_in_the_documented_order(
    http: httpx.AsyncClient, fields: dict[str, str], status: int, message: str
) -> None:
    """Failures are reported in the order 400 → 401 user → 401 key → 404 → 403 (P12)."""
    response = await _upload(http, **fields)
    assert (response.status_code, response.json()) == (status, {"message": message})


async def test_access_denied_beats_the_rate_limit(http: httpx.AsyncClient) -> None:
    """With the upload slot used, a disabled project still answers 403, an enabled one 429."""
    assert (await _upload(http)).status_code == 200
    assert (await _upload(http, projectId=CONFIGURATOR_DISABLED)).status_code == 403
    limited = await _upload(http, projectId=SHOWROOM)
    assert limited.status_code == 429
    assert limited.json() == {"message": "Rate limit exceeded. Try again in 2 minutes."}
    assert "retry-after" not in limited.headers


async def test_rate_limit_is_per_user(env: Running, http: httpx.AsyncClient) -> None:
    """Another user's upload is not limited by the first user's."""
    assert (await _upload(http)).status_code == 200
    other = {"userId": DEMO_OTHER_USER_ID, "apiKey": DEMO_OTHER_API_KEY}
    response = await _upload(http, projectId=PARTNER_OTHER_USER, **other)
    assert response.status_code == 200


async def test_projects_status_query_errors(http: httpx.AsyncClient) -> None:
    """projects-status: no userId is 400 "User ID is required"; no apikey is 401 key."""
    missing_user = await http.get("/projects/projects-status", params={"apikey": DEMO_API_KEY})
    assert (missing_user.status_code, missing_user.json()["message"]) == (
        400,
        "User ID is required",
    )
    missing_key = await http.get("/projects/projects-status", params={"userId": DEMO_USER_ID})
    assert (missing_key.status_code, missing_key.json()["message"]) == (
        401,
        "Unauthorized: Invalid API Key",
    )


async def test_camel_case_api_key_is_not_the_query_parameter(http: httpx.AsyncClient) -> None:
    """The GET key parameter is lowercase ``apikey``; ``apiKey`` counts as missing."""
    params = {"userId": DEMO_USER_ID, "apiKey": DEMO_API_KEY}
    response = await http.get(f"/projects/userStats/{SHOWROOM}", params=params)
    assert (response.status_code, response.json()["message"]) == (
        400,
        "projectId, userId and apikey are required",
    )


async def test_non_json_body_is_unsupported_and_bad_json_is_400(http: httpx.AsyncClient) -> None:
    """A form-encoded body gets 415; a JSON content type with broken JSON gets 400."""
    form = await http.post("/projects/upload-file", data={"userId": DEMO_USER_ID})
    assert form.status_code == 415
    broken = await http.post(
        "/projects/upload-file",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert (broken.status_code, broken.json()) == (400, {"message": "Invalid JSON body"})


async def test_auto_release_must_be_boolean(http: httpx.AsyncClient) -> None:
    """autoRelease given as a string is refused with 400."""
    response = await _upload(http, autoRelease="false")
    assert response.status_code == 400


async def test_unknown_paths_answer_json_404(http: httpx.AsyncClient) -> None:
    """Paths the API does not have answer 404 with a JSON message."""
    response = await http.get("/projects/nope/deeper")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


async def test_distribute_of_an_already_live_build_redistributes(
    env: Running, http: httpx.AsyncClient
) -> None:
    """Re-distributing a previous build (rollback) makes it live again."""
    env.sim.projects[SHOWROOM].live_upload_id = None
    body = {**GOOD_KEY, "projectId": SHOWROOM, "uploadId": APPROVED_BUILD}
    assert (await http.post("/projects/distribute-file", json=body)).status_code == 200
    await env.sim.drain()
    assert env.sim.projects[SHOWROOM].live_upload_id == APPROVED_BUILD


def test_generated_ids_look_like_object_ids() -> None:
    """New ids are distinct 24-hex strings starting with the clock's seconds."""
    sim = StreampixelSimulator(clock=FakeClock(0x68E7B000), seed=1)
    ids = {sim.new_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 24 and i.startswith("68e7b000") and int(i, 16) for i in ids)


def test_account_repr_hides_the_key() -> None:
    """The simulator's account repr does not show the API key."""
    sim = demo_simulator()
    assert DEMO_API_KEY not in repr(sim.accounts[DEMO_USER_ID])


async def test_a_shortened_window_is_named_and_then_opens(
    env: Running, http: httpx.AsyncClient
) -> None:
    """A simulator with a shorter window (the demo's) says so in its 429 and admits after it."""
    env.sim.rate_limit_seconds = 5.0
    assert (await _upload(http)).status_code == 200
    limited = await _upload(http)
    assert limited.json() == {"message": "Rate limit exceeded. Try again in 5 seconds."}
    assert retry_after_from(limited.json()["message"]) == 5.0
    env.clock.advance(5)
    assert (await _upload(http)).status_code == 200
