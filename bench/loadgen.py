"""An open-loop HTTP load generator: requests leave at fixed times, whatever the server does.

Closed-loop tools (wrk, ab) send the next request only when a connection is free,
so a slow server is offered less load and its stalls vanish from the figures
("coordinated omission"). Here request ``i`` is due at ``start + i / rate``; it
is sent on its own task at that time, and its latency is measured from the time it
was *due*, so any lag of the generator itself counts against the server, never
for it. aiohttp is the client (keep-alive pool, no connection limit).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

#: What StreamOps' "busy, try again" answer says (``bot.ack_runner.BUSY_TEXT``).
BUSY_MARKER = b"is busy right now"


@dataclass(frozen=True)
class Prepared:
    """One ready-to-send request: the body and its (already signed) headers."""

    body: bytes
    headers: dict[str, str]


@dataclass
class LoadResult:
    """What one fixed-rate run measured.

    Attributes:
        latencies: seconds from due time to full response, for answered requests.
        errors: requests that failed (non-expected status, connection error, timeout).
        busy: answered requests whose body was StreamOps' "busy, try again" answer.
        in_ack: answered requests whose body carried any other answer (a usage error,
            or the command's answer itself): no ``response_url`` follow-up comes for them.
        error_kinds: the errors by kind (``"status 500"``, ``"TimeoutError"``...).
        max_send_lag: the latest any request left after its due time (generator lag).
        wall: seconds from the first due time to the last response.
        cpu: CPU seconds the generator's process used during the run.
    """

    rate: float
    duration: float
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    busy: int = 0
    in_ack: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    max_send_lag: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def followups_due(self) -> int:
        """Answered requests whose answer comes later, through ``response_url``."""
        return len(self.latencies) - self.busy - self.in_ack

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile latency in seconds (nearest rank; NaN if nothing answered)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    @property
    def max(self) -> float:
        """The slowest answered request in seconds (NaN if nothing answered)."""
        return max(self.latencies) if self.latencies else math.nan

    @property
    def achieved_rate(self) -> float:
        """Answered requests per second of wall time."""
        return len(self.latencies) / self.wall if self.wall > 0 else 0.0


async def open_loop(
    url: str,
    requests: Sequence[Prepared],
    *,
    rate: float,
    duration: float,
    expect_status: int = 200,
    request_timeout: float = 10.0,
) -> LoadResult:
    """Send ``rate`` requests per second to ``url`` for ``duration`` seconds, open loop.

    Args:
        url: where to POST.
        requests: prepared requests, used round-robin (request ``i`` is ``requests[i % n]``).
        rate: requests per second.
        duration: seconds of sending; ``round(rate * duration)`` requests in all.
        expect_status: the status that counts as success.
        request_timeout: seconds after which a request counts as an error.

    Returns:
        The latencies and errors of every request.
    """
    if not requests:
        raise ValueError("open_loop needs at least one request")
    result = LoadResult(rate=rate, duration=duration)
    total = max(1, round(rate * duration))
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    client_timeout = aiohttp.ClientTimeout(total=request_timeout)

    async def one(session: aiohttp.ClientSession, prepared: Prepared, due: float) -> None:
        try:
            async with session.post(url, data=prepared.body, headers=prepared.headers) as resp:
                body = await resp.read()
                status = resp.status
        except Exception as exc:  # every failure is a data point, not a crash
            result.errors += 1
            result.error_kinds[type(exc).__name__] += 1
            return
        if status != expect_status:
            result.errors += 1
            result.error_kinds[f"status {status}"] += 1
            return
        result.latencies.append(loop.time() - due)
        if BUSY_MARKER in body:
            result.busy += 1
        elif body.strip():
            result.in_ack += 1

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        cpu0 = time.process_time()
        start = loop.time() + 0.02
        tasks: list[asyncio.Task[None]] = []
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            result.max_send_lag = max(result.max_send_lag, loop.time() - due)
            tasks.append(asyncio.create_task(one(session, requests[i % len(requests)], due)))
        await asyncio.gather(*tasks)
        result.wall = loop.time() - start
        result.cpu = time.process_time() - cpu0
    result.sent = total
    return result
