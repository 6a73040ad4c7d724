"""The benchmark harness runs end to end at a tiny rate (no timing is asserted)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.image_python import IMAGE_PYTHON_ENV
from bench.loadgen import LoadResult, Prepared, open_loop
from bot.serving import serve_in_background

REPO = Path(__file__).resolve().parents[1]


def _counting_app(seen: list[bytes], status: int = 200) -> Starlette:
    async def endpoint(request: Request) -> Response:
        seen.append(await request.body())
        return Response(status_code=status)

    return Starlette(routes=[Route("/x", endpoint, methods=["POST"])])


async def test_open_loop_sends_every_request_round_robin() -> None:
    """rate * duration requests arrive, bodies taken round-robin, each one answered."""
    seen: list[bytes] = []
    requests = [Prepared(b"a", {}), Prepared(b"b", {})]
    async with serve_in_background(_counting_app(seen)) as server:
        result = await open_loop(f"{server.url}/x", requests, rate=40, duration=0.25)
    assert result.sent == 10
    assert sorted(seen) == [b"a"] * 5 + [b"b"] * 5
    assert len(result.latencies) == 10
    assert result.errors == 0
    assert all(latency > 0 for latency in result.latencies)


async def test_open_loop_counts_unexpected_status_as_errors() -> None:
    """A 500 answer is an error by status, not a latency sample."""
    async with serve_in_background(_counting_app([], status=500)) as server:
        result = await open_loop(f"{server.url}/x", [Prepared(b"", {})], rate=20, duration=0.2)
    assert result.errors == 4
    assert result.error_kinds == {"status 500": 4}
    assert result.latencies == []


def test_percentiles_use_nearest_rank() -> None:
    """p50/p99/max of 1..100 ms are 50, 99 and 100 ms."""
    result = LoadResult(rate=1, duration=1, latencies=[i / 1000 for i in range(100, 0, -1)])
    assert result.percentile(50) == pytest.approx(0.050)
    assert result.percentile(99) == pytest.approx(0.099)
    assert result.max == pytest.approx(0.100)


def test_run_py_measures_every_server_at_a_tiny_rate(tmp_path: Path) -> None:
    """bench/run.py at 10 req/s for 1 s: 10 answered acks per server, each on uvloop +
    httptools with the Docker image's Python settings."""
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--rates", "10",
            "--duration", "1",
            "--warmup", "0.2",
            "--skip-audit",
            "--skip-webhooks",
            "--no-pin",
            "--json", str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "== Targets (issue 9)" in proc.stdout
    data = json.loads(out.read_text())
    assert set(data["ack"]) == {"starlette", "bolt", "bolt-respond", "streamops"}
    for target, figures in data["ack"].items():
        rate = figures["rates"]["10.0"]
        assert (rate["sent"], rate["answered"], rate["errors"]) == (10, 10, 0), target
        assert figures["peak_rss_mb"] > 0
        # every server runs the way `streamops serve` does: uvloop + httptools
        assert figures["runtime"]["loop"] == "uvloop", target
        assert "httptools" in figures["runtime"]["http"], target
        # ... with the Python settings of the Docker image (docstrings out, no column ranges)
        assert figures["runtime"]["optimize"] == IMAGE_PYTHON_ENV["PYTHONOPTIMIZE"], target
        assert figures["runtime"]["no_debug_ranges"] == IMAGE_PYTHON_ENV["PYTHONNODEBUGRANGES"]
        assert figures["cpu_ms_per_request"]["10.0"] >= 0, target  # 10 ms clock ticks
    # every command answered: in its ack (ready in time) or by a response_url follow-up
    streamops = data["ack"]["streamops"]
    assert streamops["followups"]["10.0"] + streamops["rates"]["10.0"]["in_ack"] == 10
    assert data["command"] in {"/build projects", "/streamops help"}


def test_outbox_lease_bench_runs_at_tiny_sizes() -> None:
    """bench/outbox_lease.py at 50 and 200 rows prints every case (no timing asserted)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "outbox_lease.py"), "--sizes", "50", "200",
         "--channels", "4", "--calls", "10"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for case in ("lease", "idle poll", "previous query", "previous query, idle poll"):
        assert f"{case:<26} p50" in proc.stdout, proc.stdout


def test_notify_delay_bench_sees_every_notification() -> None:
    """bench/notify_delay.py, 2 s at 2 webhooks/s: every webhook's message arrives in both modes."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "notify_delay.py"), "--rate", "2", "--duration", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sqlite     poll  n=4 " in proc.stdout, proc.stdout
    assert "sqlite     wake  n=4 " in proc.stdout, proc.stdout
    assert proc.stdout.count("never arrived 0") == 2, proc.stdout


def test_notify_delay_burst_bench_shows_every_event() -> None:
    """bench/notify_delay.py --burst, 2 s at 10 webhooks/s: with collapse/digest on, every
    event is visible; both configurations are printed with how many the burst's end saw."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "notify_delay.py"), "--burst", "--rate", "10",
         "--duration", "2", "--drain", "15"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sqlite     off  visible when the burst ended " in proc.stdout, proc.stdout
    assert "sqlite     on   visible when the burst ended " in proc.stdout, proc.stdout
    on = next(line for line in proc.stdout.splitlines() if "sqlite     on   visible" in line)
    assert on.endswith("after the burst 0"), proc.stdout
    assert "on ÷ off at p99" in proc.stdout, proc.stdout


def test_startup_bench_starts_serve_on_a_fresh_and_a_current_database() -> None:
    """bench/startup.py, one round: bare Starlette and `python -m bot serve` (fresh SQLite,
    then the migrated one) each answer; the goal line is printed (no timing asserted)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "startup.py"), "--rounds", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    labels = (
        "bare Starlette",
        "libraries only (no StreamOps)",
        "StreamOps, fresh SQLite",
        "StreamOps, current SQLite",
    )
    for label in labels:
        assert f"  {label:30} median" in proc.stdout, proc.stdout
    assert "start-up ≤ 1.5 s with migrations applied: max" in proc.stdout, proc.stdout
    assert "idle RSS ≤ 80 MB (0.5 s after the first 200, current SQLite): median" in proc.stdout
    floor = re.search(r"the libraries alone idle at ([\d.]+) MB: StreamOps' own share", proc.stdout)
    assert floor is not None and float(floor.group(1)) > 0, proc.stdout


def test_startup_bench_needs_a_round_that_restarts_on_a_migrated_database() -> None:
    """One round only migrates the "current" database: refused with a usage line."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "startup.py"), "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--rounds must be at least 2" in proc.stderr, proc.stderr


def test_ab_cpu_bench_compares_two_trees_in_alternating_blocks() -> None:
    """bench/ab_cpu.py with this tree on both sides, one short round of commands: each
    side's CPU per request and the ratio are printed (no timing asserted)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ab_cpu.py"), "--b", str(REPO),
         "--rate", "20", "--block", "1", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "command at 20 req/s, 1 rounds of 1 s each" in proc.stdout, proc.stdout
    row = next(line.split() for line in proc.stdout.splitlines() if line.strip().startswith("1 "))
    a, b, ratio = (float(x) for x in row[1:])
    assert a > 0 and b > 0 and ratio == pytest.approx(b / a, abs=0.01), proc.stdout


def test_the_load_generator_tells_the_busy_answer_apart() -> None:
    """bench/loadgen.py counts busy answers by a phrase of the bot's own busy text."""
    from bench.loadgen import BUSY_MARKER
    from bot.ack_runner import BUSY_TEXT

    assert BUSY_MARKER.decode() in BUSY_TEXT
