"""The post-ack runner: acks as soon as ack() is called, bounds the work after it, pools replies.

A real Bolt app (signature check, middleware, listener matching) behind its
Starlette handler, served on loopback HTTP; ``respond()`` posts go to a real
loopback server standing in for Slack's ``response_url``. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import ack_runner
from bot.response_url import ResponseSession
from bot.serving import BackgroundServer, serve_in_background
from tests.slack_requests import SIGNING_SECRET, signed_headers, slash_command


class _Slack:
    """Loopback ``response_url`` receiver: records every post and the client connection."""

    def __init__(self) -> None:
        self.posts: list[dict[str, object]] = []
        self.peers: set[object] = set()
        self.arrived = asyncio.Event()

    def app(self) -> Starlette:
        async def response(request: Request) -> Response:
            self.posts.append(json.loads(await request.body()))
            self.peers.add(request.client)
            self.arrived.set()
            return Response("ok")

        async def auth_test(_: Request) -> Response:  # Bolt's authorization middleware asks once
            return JSONResponse(
                {"ok": True, "team_id": "T0G9PQBBK", "user_id": "UBOT", "bot_id": "BBOT"}
            )

        return Starlette(
            routes=[
                Route("/response/{rid}", response, methods=["POST"]),
                Route("/api/auth.test", auth_test, methods=["POST"]),
            ]
        )


@pytest.fixture
async def slack() -> AsyncIterator[tuple[_Slack, BackgroundServer]]:
    receiver = _Slack()
    async with serve_in_background(receiver.app()) as server:
        yield receiver, server


def _bolt(
    release: asyncio.Event,
    max_pending: int,
    slack_url: str,
    responses: ResponseSession | None = None,
) -> tuple[Starlette, ack_runner.PostAckRunner]:
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=f"{slack_url}/api/"),
        signing_secret=SIGNING_SECRET,
        process_before_response=False,
        request_verification_enabled=True,
    )

    @bolt.command("/work")
    async def work(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await release.wait()  # the post-ack work is held until the test releases it
        await respond(text="done", response_type="ephemeral")

    runner = ack_runner.install(bolt, max_pending=max_pending, responses=responses)
    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), runner


async def _send(client: httpx.AsyncClient, url: str, response_url: str) -> httpx.Response:
    body = slash_command("/work", response_url=response_url)
    return await client.post(url, content=body, headers=signed_headers(body))


async def test_the_ack_returns_while_the_work_runs_and_past_the_bound_it_says_busy(
    slack: tuple[_Slack, BackgroundServer],
) -> None:
    """Two commands run (acked empty), the third is answered busy at once; all work lands."""
    receiver, receiver_server = slack
    release = asyncio.Event()
    pool = ResponseSession()
    app, runner = _bolt(release, max_pending=2, slack_url=receiver_server.url, responses=pool)
    async with serve_in_background(app) as server, httpx.AsyncClient() as client:
        url = f"{server.url}/slack/events"
        first = await _send(client, url, f"{receiver_server.url}/response/1")
        second = await _send(client, url, f"{receiver_server.url}/response/2")
        assert (first.status_code, first.text) == (200, "")
        assert (second.status_code, second.text) == (200, "")
        assert runner.pending == 2 and receiver.posts == []  # acked; work still held

        busy = await _send(client, url, f"{receiver_server.url}/response/3")
        assert busy.status_code == 200
        assert busy.json() == {"response_type": "ephemeral", "text": ack_runner.BUSY_TEXT}
        assert runner.refused == 1

        release.set()
        while len(receiver.posts) < 2:
            await asyncio.wait_for(receiver.arrived.wait(), 10)
            receiver.arrived.clear()
        await asyncio.wait_for(_until(lambda: runner.pending == 0), 10)
        assert receiver.posts == [{"text": "done", "response_type": "ephemeral"}] * 2
        peers = set(receiver.peers)  # two concurrent posts: up to two pooled connections

        again = await _send(client, url, f"{receiver_server.url}/response/4")
        assert (again.status_code, again.text) == (200, "")
        await asyncio.wait_for(_until(lambda: len(receiver.posts) == 3), 10)
        assert receiver.peers == peers  # the later post reused a pooled keep-alive connection
    assert pool.opened
    await pool.aclose()
    assert not pool.opened


async def test_a_bad_signature_is_still_refused_before_the_runner(
    slack: tuple[_Slack, BackgroundServer],
) -> None:
    """Bolt's signature check runs first: a wrong signature is a 401 and nothing runs."""
    _, receiver_server = slack
    app, runner = _bolt(asyncio.Event(), max_pending=2, slack_url=receiver_server.url)
    body = slash_command("/work", response_url=f"{receiver_server.url}/response/x")
    async with serve_in_background(app) as server, httpx.AsyncClient() as client:
        answer = await client.post(
            f"{server.url}/slack/events",
            content=body,
            headers=signed_headers(body, secret="wrong-secret"),
        )
    assert answer.status_code == 401
    assert runner.pending == 0


async def _until(condition: object) -> None:
    assert callable(condition)
    while not condition():  # noqa: ASYNC110  # the conditions are plain attributes
        await asyncio.sleep(0.01)


async def test_admission_sheds_before_bolt_while_post_ack_work_is_at_its_cap(
    slack: tuple[_Slack, BackgroundServer],
) -> None:
    """With the runner at its cap, a command is answered busy before Bolt (or 401 unsigned)."""
    _, receiver_server = slack
    release = asyncio.Event()
    app, runner = _bolt(release, max_pending=2, slack_url=receiver_server.url)
    admission = ack_runner.Admission(runner=runner, signing_secret=SIGNING_SECRET)
    form = "application/x-www-form-urlencoded"
    async with serve_in_background(app) as server, httpx.AsyncClient() as client:
        url = f"{server.url}/slack/events"
        for n in (1, 2):
            assert not runner.full()
            await _send(client, url, f"{receiver_server.url}/response/{n}")
        assert runner.full()  # two listeners held: the cap (its ceiling, 2) is reached
        assert not admission.admit(form)
        assert admission.admit("application/json")  # an event is never dropped
        body = slash_command("/work", response_url=f"{receiver_server.url}/response/x")
        assert admission.refusal(body, signed_headers(body)) == (200, ack_runner.BUSY_BODY)
        assert admission.refusal(body, signed_headers(body, secret="wrong-secret")) == (401, b"")
        release.set()
        await asyncio.wait_for(_until(lambda: runner.pending == 0), 10)
        assert not runner.full() and admission.admit(form)


def test_admission_sheds_commands_and_clicks_but_never_events() -> None:
    """Past the limit, form-encoded requests are refused; Events API JSON always gets in."""
    admission = ack_runner.Admission(limit=1)
    form = "application/x-www-form-urlencoded"
    assert admission.admit(form)
    assert not admission.admit(form)
    assert admission.admit("application/json")  # an event is never dropped
    assert (admission.inflight, admission.refused) == (2, 1)
    admission.release()
    admission.release()
    assert admission.admit(form)
    assert json.loads(ack_runner.BUSY_BODY) == {
        "response_type": "ephemeral",
        "text": ack_runner.BUSY_TEXT,
    }


async def test_a_deferred_claim_is_awaited_after_the_ack_and_stops_a_lost_delivery() -> None:
    """``ack()`` wakes the runner before the claim settles; a lost claim raises DeliveryLost."""
    loop = asyncio.get_running_loop()
    for won in (True, False):
        acked: asyncio.Future[None] = loop.create_future()
        settled: asyncio.Future[bool] = loop.create_future()
        context: dict[str, object] = {}
        ack_runner.defer_claim(context, settled)
        ack = ack_runner.AckSignal(acked, context[ack_runner.CLAIM_KEY])  # type: ignore[arg-type]
        call = asyncio.ensure_future(ack(text="ok"))
        await acked  # the answer is out while the claim is still pending
        assert not call.done() and ack.response is not None
        settled.set_result(won)
        if won:
            assert (await call).status == 200
        else:
            with pytest.raises(ack_runner.DeliveryLost):
                await call


async def test_with_process_before_response_a_failed_claim_is_answered_in_the_ack(
    slack: tuple[_Slack, BackgroundServer],
) -> None:
    """Bolt's own path (``process_before_response``) awaits the claim before the listener; a
    claim whose write fails is answered with the ephemeral notice, and the listener never runs."""
    _, receiver_server = slack
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=f"{receiver_server.url}/api/"),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )
    ran: list[str] = []

    async def database_down() -> bool:
        raise ConnectionRefusedError("database unavailable")

    async def defer(context: dict[str, object], next: Callable[[], Awaitable[None]]) -> None:
        ack_runner.defer_claim(context, database_down())
        await next()

    @bolt.command("/work")
    async def work(ack: AsyncAck) -> None:
        ran.append("work")
        await ack()

    bolt.middleware(defer)
    ack_runner.install(bolt, max_pending=4)
    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    async with serve_in_background(app) as server, httpx.AsyncClient() as client:
        answer = await _send(client, f"{server.url}/slack/events", f"{receiver_server.url}/r/1")
    assert answer.status_code == 200
    assert answer.json() == {"response_type": "ephemeral", "text": ack_runner.CLAIM_FAILED_TEXT}
    assert ran == []
