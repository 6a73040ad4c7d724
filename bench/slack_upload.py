"""Benchmark: peak memory of moving a video from Slack to StreamStack, streamed.

``python bench/slack_upload.py [--mb 1024]``

A local file server stands in for Slack's ``url_private`` (it checks the bot
token and streams ``--mb`` megabytes it generates on the fly); the StreamStack
simulator takes the presigned upload (it counts bytes and keeps none). In one
process, in the same run:

- ``floor``: an httpx download of the same file to nowhere (what streaming costs
  at the least);
- ``transfer``: ``MediaTransfer.upload_from_slack`` — presign, stream from
  "Slack" to the presigned URL, audit.

For each it prints the peak RSS growth (the kernel's high-water mark, VmHWM,
reset before each phase) and throughput, and the ratio transfer/floor. The goal
is a growth under 30 MB for a 1 GB file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.audit import AuditEvent
from bot.authz import Authorizer
from bot.providers._http import make_client
from bot.providers.streamstack import StreamStackClient
from bot.sandbox import streamstack as streamstack_sandbox
from bot.sandbox.streamstack_state import DEMO_API_KEY, StreamStackSimulator
from bot.services.actor import Actor, Gate
from bot.services.media_transfer import MediaTransfer
from bot.serving import serve_in_background
from bot.slack_files import SlackFile

TOKEN = "bench-bot-token-not-real"  # noqa: S105 — a local stand-in, not a secret
CHUNK = 1 << 20


def _hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _reset_hwm() -> None:
    # Writing 5 to clear_refs resets the peak RSS counter (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")


def slack_files_app(size: int) -> Starlette:
    """A stand-in for Slack's file hosting: Bearer token required, bytes made up on the fly."""
    block = bytes(range(256)) * (CHUNK // 256)

    async def serve(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(status_code=403)

        async def body() -> AsyncIterator[bytes]:
            left = size
            while left > 0:
                piece = block[: min(CHUNK, left)]
                left -= len(piece)
                yield piece

        return StreamingResponse(
            body(), media_type="video/mp4", headers={"content-length": str(size)}
        )

    return Starlette(routes=[Route("/files-pri/{fid}/{name}", serve)])


class _NullAuditor:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record(self, event: AuditEvent) -> None:
        self.events.append(event)


class _MediaRole:
    """A role store in which everyone holds the media role."""

    async def roles_of(self, user_id: str) -> set[str]:
        return {"media"}


async def _measure(name: str, size: int, work: Callable[[], Awaitable[None]]) -> float:
    _reset_hwm()
    before = _rss_kb()
    started = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - started
    growth_mb = (_hwm_kb() - before) / 1024
    print(
        f"{name:<9} peak RSS growth {growth_mb:7.1f} MB   "
        f"{size / elapsed / 1e6:7.1f} MB/s   ({elapsed:.1f} s)"
    )
    return growth_mb


async def main(megabytes: int) -> int:
    size = megabytes * 1024 * 1024
    sim = StreamStackSimulator.with_demo_data(max_upload_bytes=size + 1)
    async with (
        serve_in_background(slack_files_app(size)) as files,
        serve_in_background(streamstack_sandbox.create_app(sim)) as stack,
        httpx.AsyncClient(timeout=120) as http,
    ):
        url = f"{files.url}/files-pri/T0-F0BENCH/trailer.mp4"
        file = SlackFile(
            id="F0BENCH", name="trailer.mp4", mimetype="video/mp4", size=size, url_private=url
        )

        async def floor() -> None:
            async with http.stream("GET", url, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                async for _ in r.aiter_bytes(CHUNK):
                    pass

        ss = StreamStackClient(
            make_client(stack.url, timeout=120.0, max_connections=4), api_key=DEMO_API_KEY
        )
        roles = Authorizer(frozenset(), _MediaRole())  # type: ignore[arg-type]  # duck-typed store
        gate = Gate(roles, _NullAuditor(), lambda: datetime.now(UTC))
        transfer = MediaTransfer(ss, gate, http, TOKEN, api_url=f"{files.url}/api/")
        actor = Actor("U0BENCH", "modal", datetime.now(UTC))

        async def progress(sent: int, total: int | None) -> None:
            return None

        async def upload() -> None:
            done = await transfer.upload_from_slack(actor, file, "Bench trailer", progress)
            assert sim.media[done.uuid].size == size

        print(f"moving {megabytes} MB from a local 'Slack' to the StreamStack simulator")
        base = await _measure("floor", size, floor)
        moved = await _measure("transfer", size, upload)
        await ss.aclose()
    print(f"ratio transfer/floor peak growth: {moved / max(base, 0.1):.2f}x")
    verdict = "PASS" if moved < 30 else "FAIL"
    print(f"{verdict}: peak RSS growth {moved:.1f} MB (goal < 30 MB for 1 GB)")
    return 0 if moved < 30 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--mb", type=int, default=1024)
    raise SystemExit(asyncio.run(main(parser.parse_args().mb)))
