"""Bolt's listener runner without the 10 ms poll, with bounded post-ack work.

Bolt's ``AsyncioListenerRunner`` starts the listener as a task and then waits
for ``ack()`` by polling (``asyncio.sleep(0.01)`` in a loop), so every answer
to Slack takes at least one 10 ms tick. :class:`PostAckRunner` keeps
everything else Bolt does — the signature check, middleware and listener
matching all run before the runner is called, and the listener still runs with
Bolt's start, error and completion handlers — but:

- **the ack is awaited, not polled**: the request's ``ack`` is an
  :class:`AckSignal` that resolves a future the moment it is called (or the
  listener ends, or Bolt's ack timeout passes), so the HTTP answer leaves as
  soon as the listener acks;
- **post-ack work is bounded by the event loop's lag**: at most
  ``limit.value`` listeners run at once, a cap that :class:`bot.lag_limit.LagLimit`
  lowers while the loop runs late (acks would wait) and raises again while it
  is on time, up to ``max_pending``. Past the cap the request is not started
  at all; the ack answers at once with an ephemeral "busy, try again in a few
  seconds" (for slash commands Slack shows
  the ack body to the user; for clicks it is ignored and the click is dropped),
  so a flood costs an ack each instead of an ever-growing backlog;
- **a deferred delivery claim is awaited after the ack**: the replay guard
  (``handlers.replay_guard``) starts a slash command's one-shot claim with
  :func:`defer_claim` instead of waiting for its database write before the
  ack; ``ack()`` sends the answer, then waits for the claim, and raises
  :class:`DeliveryLost` into the listener when another delivery (a replay, on
  any replica) holds it, so nothing after ``await ack()`` runs twice; a claim
  that cannot be written (database down) stops the listener the same way, and
  the user reads that nothing ran (in the ack if still open, else by ``respond``);
- with a :class:`bot.response_url.ResponseSession`, **every ``respond()`` posts
  on that one pooled session** (:class:`bot.response_url.PooledRespond`)
  instead of Bolt's new ``aiohttp`` session and connection per call; a
  middleware's wrapper around ``respond`` (``handlers.respond_guard``) stays
  around the pooled one.

Lazy listeners and ``process_before_response=True`` are left to Bolt's own runner.
Install with :func:`install` after the app is built.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.lag_limit import LagLimit, LagProbe
from bot.response_url import PooledRespond, ResponseSession

log = logging.getLogger("streamops.ack")

#: Listeners running their post-ack work at once, at most (the lag-driven cap's ceiling).
DEFAULT_MAX_PENDING = 256

BUSY_TEXT = (
    ":hourglass: StreamOps is busy right now and did not run this. "
    "Please try again in a few seconds."
)


#: The request-context key of a delivery's deferred one-shot claim (:func:`defer_claim`).
CLAIM_KEY = "streamops_delivery_claim"


#: What the user reads when a slash command's claim could not be written (database down).
CLAIM_FAILED_TEXT = (
    ":x: StreamOps could not record this command (its database did not answer), "
    "so nothing was run. Please try again in a moment."
)


class DeliveryLost(Exception):  # a stop signal, not a failure
    """Another delivery of this request holds its claim: the listener stops after its ack."""


class ClaimFailed(Exception):
    """A deferred claim could not be settled (its write failed): the listener stops, and the
    runner tells the user nothing ran (:data:`CLAIM_FAILED_TEXT`)."""


def defer_claim(context: dict[str, Any], claim: Awaitable[bool]) -> None:
    """Start ``claim`` now and let :class:`PostAckRunner` await it after the ack.

    The claim (True for exactly one delivery) runs while the ack is answered;
    the listener's ``await ack()`` returns only once it is won, and raises
    :class:`DeliveryLost` when it is not.
    """
    task = asyncio.ensure_future(claim)
    task.add_done_callback(_retrieve)  # a request that never reaches a listener
    context[CLAIM_KEY] = task


def _retrieve(task: asyncio.Future[bool]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("a deferred delivery claim failed", exc_info=task.exception())


class AckSignal(AsyncAck):
    """Bolt's ``ack()``, which also resolves ``acked`` when called.

    With a deferred ``claim``, the call returns once the ack is on its way *and*
    the claim is won; a lost claim raises :class:`DeliveryLost`.
    """

    def __init__(
        self, acked: asyncio.Future[None], claim: asyncio.Future[bool] | None = None
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped in slack_bolt
        self.acked = acked
        self.claim = claim

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        """Set the response as Bolt does, wake the runner, then hold on to the claim."""
        response = await self.answer(*args, **kwargs)
        await self.confirm()
        return response

    async def answer(self, *args: Any, **kwargs: Any) -> BoltResponse:
        """Set the response as Bolt does and wake the runner (the claim is not awaited)."""
        response: BoltResponse = await super().__call__(*args, **kwargs)
        _resolve(self.acked)
        return response

    async def settle(self) -> None:
        """Wait for the deferred claim before answering: a lost one acks empty and raises."""
        try:
            await self.confirm()
        except DeliveryLost:
            await self.answer()
            raise

    async def confirm(self) -> None:
        """Wait for the deferred claim; raise :class:`DeliveryLost` if it was lost and
        :class:`ClaimFailed` if it could not be written."""
        if self.claim is None:
            return
        try:
            won = await asyncio.shield(self.claim)
        except Exception as exc:
            raise ClaimFailed from exc
        if not won:
            raise DeliveryLost


async def claim_before_answer(ack: AsyncAck) -> None:
    """Wait for a deferred delivery claim before anything is answered in the ack body.

    A replayed slash command must not read an answer in its own HTTP response; with
    the claim won first, only the claimed delivery's ack can carry one. A lost claim
    acks empty and raises :class:`DeliveryLost` (the runner ends the listener quietly).
    Any other ``ack`` (Bolt's runner claimed before the listener): returns at once.
    """
    if isinstance(ack, AckSignal):
        await ack.settle()


def _resolve(future: asyncio.Future[None], *_: object) -> None:
    if not future.done():
        future.set_result(None)


class PostAckRunner(AsyncioListenerRunner):
    """Bolt's runner, answering as soon as ``ack()`` is called; see the module docstring."""

    def __init__(
        self,
        base: AsyncioListenerRunner,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        on_busy: Callable[[], None] | None = None,
        responses: ResponseSession | None = None,
    ) -> None:
        super().__init__(
            logger=base.logger,
            process_before_response=base.process_before_response,
            listener_error_handler=base.listener_error_handler,
            listener_start_handler=base.listener_start_handler,
            listener_completion_handler=base.listener_completion_handler,
            lazy_listener_runner=base.lazy_listener_runner,
        )
        self.max_pending = max_pending
        self.limit = LagLimit(ceiling=max_pending, floor=min(LagLimit.floor, max_pending))
        self._probe = LagProbe(self.limit, lambda: self.pending > 0)
        self.on_busy = on_busy
        self.responses = responses
        self.pending = 0
        self.refused = 0

    def full(self) -> bool:
        """True when a new listener would be answered busy instead of started."""
        return self.pending >= self.limit.value

    def keeping_up(self) -> bool:
        """False while the event loop has run late lately (the lag-driven cap is lowered).

        Then a slash command acks before its work instead of answering in the ack
        (``handlers.ack_answer``): an ack must not wait for work the process is behind on,
        and a request held open for its answer would count against :class:`Admission`.
        """
        return self.limit.value >= self.limit.ceiling

    async def run(
        self,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: AsyncListener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        """Run ``listener`` in the background and return its ack as soon as it is given."""
        claim: asyncio.Future[bool] | None = request.context.get(CLAIM_KEY)
        if self.process_before_response or request.lazy_only or listener.lazy_functions:
            try:  # Bolt's own runner: claim first
                if claim is not None and not await claim:
                    return _dropped()
            except Exception as exc:
                _log_claim_failure(exc)
                return _ephemeral(CLAIM_FAILED_TEXT)
            return await super().run(request, response, listener_name, listener, starting_time)
        starting_time = starting_time if starting_time is not None else time.time()
        if self.full():
            return self._busy(request)
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[None] = loop.create_future()
        ack = AckSignal(acked, claim)
        context = request.context
        context["ack"] = ack
        if self.responses is not None and context.response_url is not None:
            pooled = PooledRespond(
                response_url=context.response_url,
                pool=self.responses,
                proxy=context.client.proxy if context.client else None,
                ssl=context.client.ssl if context.client else None,
            )
            # A middleware's wrapper (handlers.respond_guard) stays around the pooled one.
            around = getattr(context.get("respond"), "around", None)
            context["respond"] = around(pooled) if callable(around) else pooled
        if listener.auto_acknowledgement:
            await ack.answer()  # the claim is awaited in _run_listener, off the ack path
        task = asyncio.ensure_future(self._run_listener(ack, request, response, listener))
        self.pending += 1
        self._probe.start()
        task.add_done_callback(self._finished)
        task.add_done_callback(lambda _: _resolve(acked))
        left = max(listener.ack_timeout - (time.time() - starting_time), 0)
        timer = loop.call_later(left, _resolve, acked)
        try:
            await acked
        finally:
            timer.cancel()
        if ack.response is None:
            self.logger.warning("%s did not call ack() in time", listener_name)
            return None
        return ack.response

    def _finished(self, _: asyncio.Future[None]) -> None:
        self.pending -= 1

    async def _run_listener(
        self,
        ack: AckSignal,
        request: AsyncBoltRequest,
        response: BoltResponse | None,
        listener: AsyncListener,
    ) -> None:
        """Bolt's ``run_ack_function_asynchronously``: the listener with its handlers.

        A lost deferred claim (:class:`DeliveryLost`, raised by ``ack()`` or, for an
        auto-acknowledged listener, before it starts) ends the listener quietly; one that
        could not be written (:class:`ClaimFailed`) ends it too, and the user reads
        :data:`CLAIM_FAILED_TEXT`: in the ack if it is still open, else by ``respond``.
        """
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            if listener.auto_acknowledgement:
                await ack.confirm()
            await listener.run_ack_function(request=request, response=response)  # type: ignore[arg-type]
        except DeliveryLost:
            log.info("dropped a repeated Slack delivery after its ack")
        except ClaimFailed as exc:
            _log_claim_failure(exc.__cause__ or exc)
            await self._tell_claim_failed(ack, request)
        except Exception as e:
            if response is None:
                response = BoltResponse(status=500)
            response.status = 500
            if ack.response is not None:  # already acknowledged
                response = None
            await self.listener_error_handler.handle(error=e, request=request, response=response)
            ack.response = response
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)

    async def _tell_claim_failed(self, ack: AckSignal, request: AsyncBoltRequest) -> None:
        """Say that nothing ran: in the ack while it is open, else as an ephemeral post."""
        if ack.response is None:
            await ack.answer(text=CLAIM_FAILED_TEXT, response_type="ephemeral")
            return
        respond = request.context.get("respond")
        if respond is None:
            return
        try:
            await respond(text=CLAIM_FAILED_TEXT, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # the user cannot be told; the log has the claim's failure
            log.warning("could not post the failed claim's notice: %s", type(exc).__name__)

    def _busy(self, request: AsyncBoltRequest) -> BoltResponse:
        """The immediate answer when post-ack work is full: an ephemeral retry hint."""
        self.refused += 1
        if self.on_busy is not None:
            self.on_busy()
        if self.refused == 1 or self.refused % 100 == 0:
            log.warning(
                "post-ack work is full (%d running, cap %d): answered busy (%d so far)",
                self.pending,
                self.limit.value,
                self.refused,
            )
        del request
        return _ephemeral(BUSY_TEXT)


def _ephemeral(text: str) -> BoltResponse:
    """A slash command's ack carrying ``text``, shown to the requester only."""
    body = json.dumps({"response_type": "ephemeral", "text": text})
    return BoltResponse(
        status=200, body=body, headers={"content-type": "application/json;charset=utf-8"}
    )


def _log_claim_failure(error: BaseException) -> None:
    log.error(
        "could not record a slash command's delivery claim; nothing ran and the user was told",
        exc_info=error,
    )


def _dropped() -> BoltResponse:
    """The answer to a delivery whose claim another one holds: 200, nothing run."""
    return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})


def install(
    app: AsyncApp,
    *,
    max_pending: int = DEFAULT_MAX_PENDING,
    on_busy: Callable[[], None] | None = None,
    responses: ResponseSession | None = None,
) -> PostAckRunner:
    """Replace ``app``'s listener runner with a :class:`PostAckRunner`; return it.

    Args:
        responses: the pooled session ``respond()`` posts on (Bolt's own per-call
            session without it); its owner closes it.
    """
    base: AsyncioListenerRunner = app._async_listener_runner  # Bolt has no setter
    runner = PostAckRunner(base, max_pending=max_pending, on_busy=on_busy, responses=responses)
    app._async_listener_runner = runner
    return runner


class Admission:
    """Bounds the Slack requests being dispatched at once; past it, answer busy before Bolt.

    When the process is saturated, requests pile up inside Bolt's dispatch and
    every ack slows down. A slash command or an interaction (form-encoded) is
    answered at once with the ephemeral busy text, without running Bolt at all,
    when ``limit`` requests are already in flight or when the runner's post-ack
    work is at its lag-driven cap (:meth:`PostAckRunner.full`: Bolt would parse
    it only to answer busy). Only the signature is checked first
    (:meth:`refusal`): an unsigned request gets 401, as from Bolt. Events API
    deliveries (JSON) are never shed: dropping one would lose it.
    """

    def __init__(
        self,
        limit: int = 64,
        *,
        runner: PostAckRunner | None = None,
        signing_secret: str | None = None,
    ) -> None:
        self.limit = limit
        self.runner = runner
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.inflight = 0
        self.refused = 0

    def admit(self, content_type: str) -> bool:
        """Take a place for one request; False when it should be answered busy instead."""
        if content_type.startswith("application/x-www-form-urlencoded") and (
            self.inflight >= self.limit or (self.runner is not None and self.runner.full())
        ):
            self.refused += 1
            if self.refused == 1 or self.refused % 100 == 0:
                log.warning(
                    "%d Slack requests in flight: answered busy (%d so far)",
                    self.inflight,
                    self.refused,
                )
            return False
        self.inflight += 1
        return True

    def release(self) -> None:
        """Give the place back (call once per admitted request)."""
        self.inflight -= 1

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """The answer to a request :meth:`admit` refused: 401 if unsigned, else the busy body."""
        if self.verifier is not None and not self.verifier.is_valid_request(body, dict(headers)):
            return 401, b""
        return 200, BUSY_BODY


BUSY_BODY = _ephemeral(BUSY_TEXT).body.encode()
