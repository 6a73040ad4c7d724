"""StreamOps benchmarks: ``python bench/run.py [--quick]``.

Measures, side by side in one run on this machine:

1. Slash-command ack latency (p50, p99, max, errors) at fixed rates against a bare
   Starlette endpoint, a bare slack-bolt app that only acks, and StreamOps itself,
   each served by uvicorn in its own process, one at a time. The load generator is
   an open-loop aiohttp client (bench/loadgen.py) that measures from each request's
   scheduled send time. StreamOps' follow-up work goes to the Streampixel simulator
   and a fake Slack in a sandbox process, so nothing leaves the machine.
2. Peak RSS (VmHWM) of every server process, StreamOps' included.
3. Webhook ingest, when main has ``/webhooks/streampixel/{token}``.
4. Audit query p99 and chain verification, via the audit branch's
   ``bench/audit_queries.py`` when it is present.

It prints a table and PASS/FAIL per target of issue 9. Timing targets are never
asserted in the test suite; this script is where they are checked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload
from urllib.parse import parse_qsl, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench import machine, webhooks
from bench.image_python import image_env, precompile
from bench.loadgen import LoadResult, Prepared, open_loop
from storage.audit_keys import generate_key

REPO = Path(__file__).resolve().parents[1]
# Made-up credentials: the bench talks only to its own fake Slack and simulators.
SIGNING_SECRET = "bench-signing-secret-not-a-real-one-0123"  # noqa: S105
BOT_TOKEN = "bench-bot-token-not-real"  # noqa: S105
WEBHOOK_TOKEN = "bench-webhook-token-0123456789"  # noqa: S105
BENCH_USER = "UBENCH0001"
TARGETS = ("starlette", "bolt", "bolt-respond", "streamops")
LABELS = {
    "starlette": "bare Starlette",
    "bolt": "bare Bolt (ack only)",
    "bolt-respond": "Bolt ack + respond()",
    "streamops": "StreamOps",
}
FOLLOWS_UP = ("bolt-respond", "streamops")
PRIMARY_COMMAND = ("/build", "projects")
FALLBACK_COMMAND = ("/streamops", "help")

# Issue 9 targets.
P99_RATIO_MAX = 1.5
P99_AT_200_MAX_S = 0.050
ANY_REQUEST_MAX_S = 2.5
INGEST_MIN_PER_S = 1000.0
RSS_MAX_MB = 150.0


@dataclass
class TargetRun:
    """Everything measured for one server: a result per rate and its peak RSS."""

    target: str
    results: dict[float, LoadResult] = field(default_factory=dict)
    followups: dict[float, tuple[int, float]] = field(default_factory=dict)
    peak_rss_mb: float = math.nan
    idle_rss_mb: float = math.nan
    cpu_ms: dict[float, float] = field(default_factory=dict)
    runtime: dict[str, str] = field(default_factory=dict)
    log: str = ""


# -- processes ---------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def rss_mb(pid: int) -> float:
    """VmRSS (current resident set) of ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (all threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def runtime_of(log: str) -> dict[str, str]:
    """The ``BENCH-RUNTIME`` line a target prints (event loop, HTTP protocol), as a dict."""
    for line in log.splitlines():
        if line.startswith("BENCH-RUNTIME "):
            data: dict[str, str] = json.loads(line.removeprefix("BENCH-RUNTIME "))
            return data
    return {}


async def wait_for_port(port: int, proc: asyncio.subprocess.Process, within: float = 60) -> None:
    """Wait until something accepts connections on ``port``; fail if ``proc`` dies first."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"server exited with {proc.returncode} during start-up")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"nothing listened on port {port} within {within} s")


def streamops_config(settings: dict[str, str], slack_url: str, database_url: str) -> dict[str, str]:
    """The settings a benchmarked StreamOps runs with: the sandbox's providers (``settings``),
    its fake Slack, ``database_url``, the bench's admin and webhook token, production mode."""
    return {
        **settings,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"{slack_url}/api/",
        "DATABASE_URL": database_url,
        "STREAMOPS_ADMINS": BENCH_USER,
        "STREAMOPS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "STREAMOPS_DEFAULT_CHANNEL": "C0BENCH001",
        "STREAMOPS_LOG_LEVEL": "WARNING",
        # Production mode: the audit log is keyed (HMAC per row), as in issue 16.
        "STREAMOPS_AUDIT_KEY": generate_key(),
    }


@contextlib.asynccontextmanager
async def child(
    kind: str,
    *,
    port: int = 0,
    cpu: int | None,
    config: dict[str, str],
    log_path: Path,
    tree: Path = REPO,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run ``TREE/bench/targets.py KIND`` in its own process until the block ends (``tree``:
    another checkout, whose own code the process runs)."""
    argv = [sys.executable, str(tree / "bench" / "targets.py"), kind, "--port", str(port)]
    if cpu is not None:
        argv += ["--cpu", str(cpu)]
    env = {**os.environ, "BENCH_CONFIG": json.dumps(config), "PYTHONUNBUFFERED": "1"}
    if kind != "sandbox":  # every measured server runs as the Docker image runs StreamOps
        precompile(sys.executable, tree)
        env = image_env(env)
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=tree,
            env=env,
            stdout=asyncio.subprocess.PIPE if kind == "sandbox" else log,
            stderr=log,
        )
        try:
            yield proc
        finally:
            await stop(proc)


async def stop(proc: asyncio.subprocess.Process) -> None:
    """Terminate ``proc`` if it still runs; kill it if it has not exited 10 s later."""
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- requests ----------------------------------------------------------------


def slash_bodies(command: str, text: str, response_base: str, count: int = 16) -> list[bytes]:
    """``count`` form-encoded slash commands shaped like Slack's saved sample."""
    sample = (REPO / "tests" / "payloads" / "slash_command.txt").read_text().strip()
    fields = dict(parse_qsl(sample, keep_blank_values=True))
    bodies = []
    for i in range(count):
        fields.update(
            command=command,
            text=text,
            user_id=BENCH_USER,
            user_name="bench",
            channel_id="C0BENCH001",
            response_url=f"{response_base}/response/bench-{i}",
            trigger_id=f"398738663015.47445629121.{i:032x}",
        )
        bodies.append(urlencode(fields).encode())
    return bodies


#: A viewer (no role) clicking Distribute: refused after the ack, and the refusal is
#: written to the audit log — the click path with its audit write.
CLICK_USER = "UBENCHVIEWER"


def click_bodies(response_base: str, count: int = 16) -> list[bytes]:
    """``count`` form-encoded ``block_actions`` (a Distribute click) shaped like Slack's sample."""
    sample = json.loads((REPO / "tests" / "payloads" / "block_actions.json").read_text())
    bodies = []
    for i in range(count):
        payload = dict(sample)
        payload["user"] = {"id": CLICK_USER, "username": "viewer", "team_id": "T0BENCH"}
        payload["team"] = {"id": "T0BENCH"}
        payload["channel"] = {"id": "C0BENCH001"}
        payload["container"] = {
            **sample["container"],
            "channel_id": "C0BENCH001",
            "message_ts": f"1700000000.{i:06d}",
        }
        payload["response_url"] = f"{response_base}/response/click-{i}"
        payload["actions"] = [
            {
                "action_id": "build_distribute",
                "block_id": "b1",
                "type": "button",
                "text": {"type": "plain_text", "text": "Distribute"},
                "value": json.dumps(
                    {"project_id": "664f1a2b3c4d5e6f7a8b9c0d", "upload_id": f"{i:024x}"}
                ),
                "action_ts": "1700000000.000001",
            }
        ]
        bodies.append(urlencode({"payload": json.dumps(payload)}).encode())
    return bodies


def _signed(verifier: SignatureVerifier, ts: str, body: bytes) -> Prepared:
    return Prepared(
        body,
        {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": str(verifier.generate_signature(timestamp=ts, body=body)),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


#: Each :class:`FreshCommands` numbers its requests from its own block of serials.
_SERIAL_BLOCKS = itertools.count()


class FreshCommands(Sequence[Prepared]):
    """Slash commands (and clicks) as Slack sends them: each with its own response_url.

    Slack never sends a ``trigger_id`` twice, and the bot drops a replayed one (and a
    ``response_url`` takes 5 posts), so reusing a handful of bodies round-robin would
    measure replays. Request ``i`` is template ``i % n`` made unique and signed when
    the load generator takes it.
    """

    def __init__(self, templates: Sequence[bytes]) -> None:
        self._templates = [dict(parse_qsl(t.decode(), keep_blank_values=True)) for t in templates]
        self._verifier = SignatureVerifier(SIGNING_SECRET)
        self._ts = str(int(time.time()))
        self._base = next(_SERIAL_BLOCKS) * 10_000_000

    def __len__(self) -> int:
        return 10_000_000

    @overload
    def __getitem__(self, index: int) -> Prepared: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Prepared]: ...
    def __getitem__(self, index: int | slice) -> Prepared | Sequence[Prepared]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        fields = dict(self._templates[index % len(self._templates)])
        serial = self._base + index
        if "payload" in fields:  # a click: its response_url is in the JSON payload
            payload = json.loads(fields["payload"])
            payload["response_url"] = f"{payload['response_url']}-{serial}"
            fields["payload"] = json.dumps(payload)
        else:
            fields["trigger_id"] = f"{fields['trigger_id']}-{serial}"
            fields["response_url"] = f"{fields['response_url']}-{serial}"
        return _signed(self._verifier, self._ts, urlencode(fields).encode())


def sign(bodies: Sequence[bytes]) -> Sequence[Prepared]:
    """Sign the bodies now (Slack signatures stay valid for 5 minutes).

    Slash commands become :class:`FreshCommands` (a unique trigger_id per request), and
    so do clicks (a unique response_url per click: Slack takes 5 posts on one, and
    the strict fake Slack refuses the sixth); other bodies are signed once each and
    reused round-robin.
    """
    if bodies and all(b"trigger_id=" in body and b"command=" in body for body in bodies):
        return FreshCommands(bodies)
    if bodies and all(body.startswith(b"payload=") for body in bodies):
        return FreshCommands(bodies)
    verifier = SignatureVerifier(SIGNING_SECRET)
    ts = str(int(time.time()))
    return [_signed(verifier, ts, body) for body in bodies]


async def sandbox_stats(session: aiohttp.ClientSession, slack_url: str) -> dict[str, int]:
    """Calls the fake Slack has received, by method."""
    async with session.get(f"{slack_url}/bench/stats") as resp:
        data: dict[str, int] = await resp.json()
        return data


async def probe_command(url: str, bodies: list[bytes]) -> bool:
    """Whether StreamOps runs ``bodies[0]``: acks it empty or with its answer, not usage."""
    prepared = sign(bodies[:1])[0]
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=prepared.body, headers=prepared.headers) as resp,
    ):
        body = await resp.read()  # a usage error is plain text; an answer is JSON
        return resp.status == 200 and (not body.strip() or body.lstrip().startswith(b"{"))


# -- the ack-latency runs ----------------------------------------------------


async def run_target(
    target: str,
    *,
    rates: Sequence[float],
    duration: float,
    warmup: float,
    bodies: list[bytes],
    config: dict[str, str],
    slack_url: str,
    server_cpu: int | None,
    workdir: Path,
) -> TargetRun:
    """Start ``target``, warm it up, run every rate against it, record its peak RSS."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    log_path = workdir / f"{target}.log"
    run = TargetRun(target)
    async with child(target, port=port, cpu=server_cpu, config=config, log_path=log_path) as proc:
        await wait_for_port(port, proc)
        await asyncio.sleep(0.5)
        run.idle_rss_mb = rss_mb(proc.pid)
        async with aiohttp.ClientSession() as stats_session:
            before = await sandbox_stats(stats_session, slack_url)
            warm = await open_loop(url, sign(bodies), rate=50, duration=warmup)
            if target in FOLLOWS_UP:  # let warm-up follow-ups land before counting
                await wait_followups(stats_session, slack_url, before, warm.followups_due)
            for rate in rates:
                before = await sandbox_stats(stats_session, slack_url)
                cpu_before = cpu_seconds(proc.pid)
                result = await open_loop(url, sign(bodies), rate=rate, duration=duration)
                run.results[rate] = result
                if target in FOLLOWS_UP:
                    run.followups[rate] = await wait_followups(
                        # busy answers run nothing; answers in the ack need no follow-up
                        stats_session,
                        slack_url,
                        before,
                        result.followups_due,
                    )
                await asyncio.sleep(0.3)  # post-ack work without a follow-up (audit rows)
                served = max(len(result.latencies), 1)
                run.cpu_ms[rate] = (cpu_seconds(proc.pid) - cpu_before) * 1000 / served
                print(f"  {LABELS[target]:<22} {rate:>5.0f} req/s  {summary(result)}", flush=True)
                await asyncio.sleep(0.5)
        run.peak_rss_mb = peak_rss_mb(proc.pid)
    run.log = log_path.read_text(errors="replace")
    run.runtime = runtime_of(run.log)
    return run


async def wait_followups(
    session: aiohttp.ClientSession, slack_url: str, before: dict[str, int], expected: int
) -> tuple[int, float]:
    """Wait (≤ 30 s) for ``expected`` response_url posts; return (seen, seconds waited)."""
    t0 = time.monotonic()
    seen = 0
    while time.monotonic() - t0 < 30:
        now = await sandbox_stats(session, slack_url)
        seen = now.get("response_url", 0) - before.get("response_url", 0)
        if seen >= expected:
            break
        await asyncio.sleep(0.1)
    return seen, time.monotonic() - t0


def ms(seconds: float) -> str:
    """Seconds as milliseconds for the table."""
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def summary(result: LoadResult) -> str:
    """One line: p50/p99/max, errors, achieved rate."""
    errors = f"{result.errors}" + (f" {dict(result.error_kinds)}" if result.errors else "")
    return (
        f"p50 {ms(result.percentile(50))} ms  p99 {ms(result.percentile(99))} ms"
        f"  max {ms(result.max)} ms  errors {errors}  busy {result.busy}"
        f"  in ack {result.in_ack}"
        f"  ({result.achieved_rate:.0f}/s answered)"
    )


# -- audit -------------------------------------------------------------------


@dataclass
class Overload:
    """A flood of slash commands at a fixed rate against StreamOps."""

    rate: float
    duration: float
    result: LoadResult | None = None
    followups: int = 0
    drain_s: float = math.nan
    peak_rss_mb: float = math.nan
    warm_cpu_ms: float = math.nan
    flood_cpu: float = math.nan
    load: tuple[str, str] = ("?", "?")

    @property
    def accepted(self) -> int:
        """Commands run (answered in the ack or later), as opposed to answered busy."""
        return len(self.result.latencies) - self.result.busy if self.result else 0

    def lines(self) -> list[str]:
        """The report lines, with the issue-20 checks."""
        r = self.result
        if r is None:
            return ["  not measured"]
        worst = r.max
        sustainable = 1000 / self.warm_cpu_ms if self.warm_cpu_ms > 0 else math.nan
        return [
            f"  load average before {self.load[0]}, after {self.load[1]}",
            f"  warm-up: {self.warm_cpu_ms:.2f} CPU ms per command incl. follow-up, so one"
            f" free CPU sustains ~{sustainable:.0f} req/s;"
            f" server CPU during the flood {self.flood_cpu:.0%} of one core",
            f"  {self.rate:.0f} req/s for {self.duration:g} s: sent {r.sent}, answered"
            f" {len(r.latencies)}, errors {r.errors}, accepted {self.accepted},"
            f" answered busy {r.busy}, answered in the ack {r.in_ack}",
            f"  ack p50 {ms(r.percentile(50))} ms, p99 {ms(r.percentile(99))} ms,"
            f" max {ms(worst)} ms; peak RSS {self.peak_rss_mb:.1f} MB",
            f"  follow-ups {self.followups}/{r.followups_due}, backlog gone"
            f" {self.drain_s:.1f} s after the flood",
            f"  {verdict(r.errors == 0 and worst <= 3.0)}  no request over 3 s (and none failed)",
            f"  {verdict(self.peak_rss_mb < 200)}  RSS under 200 MB",
            f"  {verdict(self.followups >= r.followups_due)}  every accepted command got its"
            " answer (in the ack, or as a follow-up)",
            f"  {verdict(self.drain_s <= 10)}  backlog gone within 10 s of the flood's end",
        ]


async def run_overload(
    args: argparse.Namespace,
    bodies: list[bytes],
    config: dict[str, str],
    slack_url: str,
    server_cpu: int | None,
    workdir: Path,
) -> Overload:
    """Flood StreamOps at ``--overload`` req/s; count busy answers, follow-ups and drain time."""
    flood = Overload(rate=args.overload or 0.0, duration=args.overload_duration)
    flood.load = (loadavg(), "?")
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    log_path = workdir / "overload.log"
    async with child(
        "streamops", port=port, cpu=server_cpu, config=config, log_path=log_path
    ) as proc:
        await wait_for_port(port, proc)
        async with aiohttp.ClientSession() as stats_session:
            before = await sandbox_stats(stats_session, slack_url)
            await open_loop(url, sign(bodies), rate=50, duration=1)  # start-up, imports
            await asyncio.sleep(0.5)
            # The cost of one command, to size the flood ("twice the sustainable rate"):
            # CPU seconds per command at a rate the server keeps up with, follow-up included.
            before = await sandbox_stats(stats_session, slack_url)
            cpu_before = cpu_seconds(proc.pid)
            warm = await open_loop(url, sign(bodies), rate=50, duration=3)
            await wait_followups(stats_session, slack_url, before, warm.followups_due)
            await asyncio.sleep(0.3)
            served = max(len(warm.latencies), 1)
            flood.warm_cpu_ms = (cpu_seconds(proc.pid) - cpu_before) * 1000 / served
            if not flood.rate:  # --overload auto: twice what one free CPU sustains
                flood.rate = round(2 * 1000 / flood.warm_cpu_ms)
            before = await sandbox_stats(stats_session, slack_url)
            print(f"overload: {flood.rate:.0f} req/s for {flood.duration:g} s …", flush=True)
            cpu_before, t0 = cpu_seconds(proc.pid), time.monotonic()
            flood.result = await open_loop(
                url, sign(bodies), rate=flood.rate, duration=flood.duration
            )
            flood.flood_cpu = (cpu_seconds(proc.pid) - cpu_before) / (time.monotonic() - t0)
            flood.followups, flood.drain_s = await wait_followups(
                stats_session, slack_url, before, flood.result.followups_due
            )
        flood.peak_rss_mb = peak_rss_mb(proc.pid)
    flood.load = (flood.load[0], loadavg())
    return flood


def loadavg() -> str:
    """The 1, 5 and 15-minute load averages (the machine may be shared)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def run_audit(rows: int) -> tuple[str, int | None]:
    """Run the audit branch's bench/audit_queries.py; its output (or why not) and exit code."""
    script = REPO / "bench" / "audit_queries.py"
    if not script.exists():
        return "not measured: bench/audit_queries.py is not in this tree", None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        "--rows",
        str(rows),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return out.decode(errors="replace").rstrip(), proc.returncode


# -- report ------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    """PASS, FAIL or n/a."""
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def click_report(clicks: dict[str, TargetRun], args: argparse.Namespace) -> str:
    """The button-click table: StreamOps (ack, then role check, audit row, reply) vs bare Bolt."""
    if not clicks:
        return "\n== Button-click ack latency\n  not measured (--skip-clicks)"
    lines = [
        "",
        "== Button-click ack latency: a viewer's Distribute click (block_actions), "
        f"{args.duration:g} s per rate",
        "   StreamOps acks, then checks the role, writes the refusal to the audit log and replies",
        "",
        f"  {'server':<22}{'rate':>6}{'sent':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}{'p99 ÷ Bolt':>12}{'CPU ms/req':>12}{'CPU ÷ Bolt':>12}",
    ]
    bolt = clicks.get("bolt")
    for target, run in clicks.items():
        for rate, r in run.results.items():
            ratio = cpu_ratio = ""
            if bolt and target != "bolt" and rate in bolt.results:
                ratio = f"{r.percentile(99) / bolt.results[rate].percentile(99):.2f}×"
                cpu_ratio = ratio_text(run.cpu_ms.get(rate), bolt.cpu_ms.get(rate))
            lines.append(
                f"  {LABELS[target]:<22}{rate:>6.0f}{r.sent:>7}{ms(r.percentile(50)):>9}"
                f"{ms(r.percentile(99)):>9}{ms(r.max):>9}{r.errors:>8}{ratio:>12}"
                f"{run.cpu_ms.get(rate, math.nan):>12.3f}{cpu_ratio:>12}"
            )
    return "\n".join(lines)


def ratio_text(value: float | None, base: float | None) -> str:
    """``value / base`` as a ratio string (``1.23`` and the multiplication sign), or a dash."""
    if value is None or base is None or not base > 0:
        return "—"
    return f"{value / base:.2f}×"


def report(
    runs: dict[str, TargetRun],
    command: tuple[str, str],
    ingest: webhooks.IngestResult | None,
    ingest_note: str,
    audit_text: str,
    facts: dict[str, str],
    args: argparse.Namespace,
    pinned: bool,
) -> tuple[str, list[tuple[str, bool | None, str]]]:
    """The printed report and the list of (target, verdict, detail)."""
    lines = ["", "== Machine"]
    lines += [f"  {k:<12} {v}" for k, v in facts.items()]
    lines += [
        "",
        f"== Slash-command ack latency: `{command[0]} {command[1]}`,"
        f" {args.duration:g} s per rate, open loop (aiohttp), measured from scheduled send time",
        "   each server: uvicorn, 1 worker, own process"
        + (", pinned to CPU 1; load generator and sandbox on CPU 0" if pinned else ", unpinned"),
        "",
        f"  {'server':<22}{'rate':>6}{'sent':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}{'p99 ÷ Bolt':>12}{'gen lag ms':>12}{'gen CPU':>9}"
        f"{'CPU ms/req':>12}{'CPU ÷ Bolt':>12}",
    ]
    bolt = runs.get("bolt")
    for target in TARGETS:
        run = runs.get(target)
        if run is None:
            continue
        for rate, r in run.results.items():
            ratio = "—"
            if bolt and rate in bolt.results and target != "bolt":
                base = bolt.results[rate].percentile(99)
                ratio = f"{r.percentile(99) / base:.2f}×" if base > 0 else "—"
            cpu = f"{r.cpu / r.wall * 100:.0f}%" if r.wall > 0 else "—"
            cpu_ratio = "—"
            if bolt and target != "bolt":
                cpu_ratio = ratio_text(run.cpu_ms.get(rate), bolt.cpu_ms.get(rate))
            lines.append(
                f"  {LABELS[target]:<22}{rate:>6.0f}{r.sent:>7}{ms(r.percentile(50)):>9}"
                f"{ms(r.percentile(99)):>9}{ms(r.max):>9}{r.errors:>8}{ratio:>12}"
                f"{ms(r.max_send_lag):>12}{cpu:>9}{run.cpu_ms.get(rate, math.nan):>12.3f}"
                f"{cpu_ratio:>12}"
            )
    streamops = runs.get("streamops")
    followers = [runs[t] for t in FOLLOWS_UP if t in runs and runs[t].followups]
    if followers:
        lines += ["", "  Follow-ups (response_url posts that reached the fake Slack):"]
    for run in followers:
        for rate, (seen, waited) in run.followups.items():
            result = run.results[rate]
            lines.append(
                f"    {LABELS[run.target]:<22}{rate:>5.0f} req/s: {seen}/{result.followups_due}"
                f" within {waited:.1f} s of the last ack ({result.busy} answered busy,"
                f" {result.in_ack} in the ack)"
            )
    lines += ["", "== Runtime of each server (its BENCH-RUNTIME line)"]
    for target in TARGETS:
        if target in runs:
            rt = runs[target].runtime
            loop, http = rt.get("loop", "?"), rt.get("http", "?")
            lines.append(f"  {LABELS[target]:<22}loop {loop}, http {http}")
    lines += ["", "== RSS of each server process: idle (0.5 s after start) and peak (VmHWM)"]
    for target in TARGETS:
        if target in runs:
            lines.append(
                f"  {LABELS[target]:<22}idle {runs[target].idle_rss_mb:>7.1f} MB"
                f"   peak {runs[target].peak_rss_mb:>7.1f} MB"
            )
    lines.append("  (VmHWM is the lifetime peak, so it includes start-up and every rate run.)")
    lines += ["", "== Webhook ingest (Streampixel, SQLite, unique payloads)"]
    lines.append(f"  {ingest.describe()}" if ingest else f"  {ingest_note}")
    lines += ["", "== Audit queries (bench/audit_queries.py)"]
    lines += [f"  {line}" for line in audit_text.splitlines()]

    checks: list[tuple[str, bool | None, str]] = []
    so200 = streamops.results.get(200.0) if streamops else None
    bolt200 = bolt.results.get(200.0) if bolt else None
    if so200 and bolt200:
        p99, base = so200.percentile(99), bolt200.percentile(99)
        checks.append(
            (
                f"StreamOps p99 ≤ {P99_RATIO_MAX}× bare Bolt at 200 req/s",
                p99 <= P99_RATIO_MAX * base,
                f"{ms(p99)} ms vs {ms(base)} ms ({p99 / base:.2f}×)",
            )
        )
        checks.append(
            (
                "StreamOps p99 ≤ 50 ms at 200 req/s",
                p99 <= P99_AT_200_MAX_S,
                f"{ms(p99)} ms",
            )
        )
    else:
        checks.append(("StreamOps p99 at 200 req/s", None, "200 req/s was not run"))
    if streamops:
        worst = max((r.max for r in streamops.results.values()), default=math.nan)
        errors = sum(r.errors for r in streamops.results.values())
        checks.append(
            (
                "no StreamOps request over 2.5 s (and none failed)",
                worst <= ANY_REQUEST_MAX_S and errors == 0,
                f"max {ms(worst)} ms, {errors} errors",
            )
        )
        checks.append(
            (
                f"StreamOps peak RSS ≤ {RSS_MAX_MB:.0f} MB",
                streamops.peak_rss_mb <= RSS_MAX_MB,
                f"{streamops.peak_rss_mb:.1f} MB",
            )
        )
    if ingest:
        checks.append(
            (
                f"webhook ingest ≥ {INGEST_MIN_PER_S:.0f}/s on SQLite",
                ingest.sustained_per_s >= INGEST_MIN_PER_S,
                f"sustained {ingest.sustained_per_s:.0f}/s (highest offered rate kept up with)",
            )
        )
    else:
        checks.append(("webhook ingest ≥ 1000/s on SQLite", None, ingest_note))
    lines += ["", "== Targets (issue 9)"]
    lines += [f"  {verdict(ok)}  {name}: {detail}" for name, ok, detail in checks]
    return "\n".join(lines), checks


# -- main --------------------------------------------------------------------


def overload_rate(text: str) -> float:
    """``--overload``: a rate in req/s, or ``auto`` (0.0: sized from the warm-up)."""
    return 0.0 if text == "auto" else float(text)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (``--quick`` picks shorter runs and fewer audit rows)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s per rate, 100k audit rows")
    parser.add_argument("--rates", type=float, nargs="+", help="req/s (default 50 200 500)")
    parser.add_argument("--duration", type=float, help="seconds per rate (default 30, quick 5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up at 50 req/s")
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--audit-rows", type=int, help="default 1,000,000 (quick 100,000)")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument(
        "--skip-clicks", action="store_true", help="skip the button-click ack latency runs"
    )
    parser.add_argument(
        "--skip-commands",
        action="store_true",
        help="skip the slash-command runs (measure the button clicks only)",
    )
    parser.add_argument(
        "--ingest-rate", type=float, nargs="+", help="rising webhook rates (≤ 10 s each)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--overload",
        type=overload_rate,
        help="also flood StreamOps with slash commands at this rate, or 'auto': twice what"
        " one CPU sustains, from the CPU time per command measured at 50 req/s before",
    )
    parser.add_argument("--overload-duration", type=float, default=60.0)
    args = parser.parse_args(argv)
    args.rates = args.rates or [50.0, 200.0, 500.0]
    args.duration = args.duration or (5.0 if args.quick else 30.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.audit_rows = args.audit_rows or (100_000 if args.quick else 1_000_000)
    default_ingest = [100.0, 250.0, 500.0, 1000.0, 1500.0]
    args.ingest_rate = args.ingest_rate or default_ingest
    return args


async def bench(args: argparse.Namespace) -> int:
    """Run every measurement and print the report; exit status 0 unless something broke."""
    pinned = not args.no_pin and (os.cpu_count() or 1) >= 2
    server_cpu = 1 if pinned else None
    if pinned:
        os.sched_setaffinity(0, {0})
    facts = machine.describe(REPO)
    with tempfile.TemporaryDirectory(prefix="streamops-bench-") as tmp:
        workdir = Path(tmp)
        sandbox_config = {"webhook_token": WEBHOOK_TOKEN}
        async with child(
            "sandbox",
            cpu=0 if pinned else None,
            config=sandbox_config,
            log_path=workdir / "sandbox.log",
        ) as sandbox_proc:
            assert sandbox_proc.stdout is not None
            line = await asyncio.wait_for(sandbox_proc.stdout.readline(), 60)
            if not line:
                log = (workdir / "sandbox.log").read_text()
                raise RuntimeError(f"sandbox did not start:\n{log}")
            sandbox = json.loads(line)
            slack_url: str = sandbox["slack_url"]
            config = streamops_config(
                sandbox["settings"], slack_url, f"sqlite+aiosqlite:///{workdir / 'streamops.db'}"
            )
            command = await choose_command(config, slack_url, server_cpu, workdir)
            print(f"slash command under test: {command[0]} {command[1]}", flush=True)
            bodies = slash_bodies(*command, slack_url)
            runs: dict[str, TargetRun] = {}
            for target in [] if args.skip_commands else args.targets:
                runs[target] = await run_target(
                    target,
                    rates=args.rates,
                    duration=args.duration,
                    warmup=args.warmup,
                    bodies=bodies,
                    config=config,
                    slack_url=slack_url,
                    server_cpu=server_cpu,
                    workdir=workdir,
                )
            clicks: dict[str, TargetRun] = {}
            if not args.skip_clicks:
                print("button clicks: a viewer's Distribute click (refused, audited)", flush=True)
                for target in ("bolt", "streamops"):
                    if target in args.targets:
                        clicks[target] = await run_target(
                            target,
                            rates=args.rates,
                            duration=args.duration,
                            warmup=args.warmup,
                            bodies=click_bodies(slack_url),
                            config=config,
                            slack_url=slack_url,
                            server_cpu=server_cpu,
                            workdir=workdir,
                        )
            overload = None
            if args.overload is not None:
                overload = await run_overload(args, bodies, config, slack_url, server_cpu, workdir)
            ingest, ingest_note = None, "not measured (--skip-webhooks)"
            if not args.skip_webhooks:
                ingest, ingest_note = await run_ingest(args, config, server_cpu, workdir)
        audit_text = "not measured (--skip-audit)"
        if not args.skip_audit:
            print(f"audit: bench/audit_queries.py --rows {args.audit_rows} …", flush=True)
            audit_text, _ = await run_audit(args.audit_rows)
    text, checks = report(runs, command, ingest, ingest_note, audit_text, facts, args, pinned)
    print(text, flush=True)
    print(click_report(clicks, args), flush=True)
    if overload is not None:
        print("\n== Overload: a flood of slash commands (issue 20)", flush=True)
        print("\n".join(overload.lines()), flush=True)
    if args.json:
        data = to_json(runs, command, ingest, checks, facts)
        data["clicks"] = to_json(clicks, command, None, [], facts)["ack"]
        args.json.write_text(json.dumps(data, indent=2))
    for run in runs.values():
        if "Traceback" in run.log:
            print(f"\n{LABELS[run.target]} logged errors:\n{run.log[-3000:]}", file=sys.stderr)
    return 0


async def choose_command(
    config: dict[str, str], slack_url: str, server_cpu: int | None, workdir: Path
) -> tuple[str, str]:
    """``/build projects`` if StreamOps acks it empty, else ``/streamops help``."""
    port = free_port()
    async with child(
        "streamops", port=port, cpu=server_cpu, config=config, log_path=workdir / "probe.log"
    ) as proc:
        await wait_for_port(port, proc)
        url = f"http://127.0.0.1:{port}/slack/events"
        async with aiohttp.ClientSession() as stats_session:
            before = await sandbox_stats(stats_session, slack_url)
            found = await probe_command(url, slash_bodies(*PRIMARY_COMMAND, slack_url, 1))
            # the probe's own follow-up must land before anything is counted
            await wait_followups(stats_session, slack_url, before, 1 if found else 0)
    return PRIMARY_COMMAND if found else FALLBACK_COMMAND


async def run_ingest(
    args: argparse.Namespace, config: dict[str, str], server_cpu: int | None, workdir: Path
) -> tuple[webhooks.IngestResult | None, str]:
    """Webhook ingest against a fresh StreamOps on a fresh SQLite file, if the route exists."""
    port = free_port()
    ingest_config = {**config, "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ingest.db'}"}
    log_path = workdir / "ingest.log"
    async with child(
        "streamops", port=port, cpu=server_cpu, config=ingest_config, log_path=log_path
    ) as proc:
        await wait_for_port(port, proc)
        base = f"http://127.0.0.1:{port}"
        print("webhook ingest …", flush=True)
        return await webhooks.measure(
            base,
            WEBHOOK_TOKEN,
            rates=args.ingest_rate,
            duration=args.duration,
            database_path=workdir / "ingest.db",
        )


def to_json(
    runs: dict[str, TargetRun],
    command: tuple[str, str],
    ingest: webhooks.IngestResult | None,
    checks: list[tuple[str, bool | None, str]],
    facts: dict[str, str],
) -> dict[str, Any]:
    """The figures as plain data (for the smoke test and for keeping)."""
    return {
        "machine": facts,
        "command": " ".join(command),
        "ack": {
            target: {
                "peak_rss_mb": run.peak_rss_mb,
                "idle_rss_mb": run.idle_rss_mb,
                "runtime": run.runtime,
                "cpu_ms_per_request": {str(k): v for k, v in run.cpu_ms.items()},
                "rates": {
                    str(rate): {
                        "sent": r.sent,
                        "answered": len(r.latencies),
                        "errors": r.errors,
                        "busy": r.busy,
                        "in_ack": r.in_ack,
                        "p50_ms": r.percentile(50) * 1000,
                        "p99_ms": r.percentile(99) * 1000,
                        "max_ms": r.max * 1000,
                    }
                    for rate, r in run.results.items()
                },
                "followups": {str(k): v[0] for k, v in run.followups.items()},
            }
            for target, run in runs.items()
        },
        "ingest": ingest.as_dict() if ingest else None,
        "checks": [{"target": n, "pass": ok, "detail": d} for n, ok, d in checks],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(bench(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
