"""Start-up time: ``streamops serve`` from exec to its first ``/healthz`` 200.

``python bench/startup.py [--rounds N] [--postgres URL]``

Each round starts, in turn, and times from the exec to the first answer:

- **bare Starlette** (``bench/targets.py starlette``: an interpreter, uvicorn, one
  route), the baseline: any HTTP answer counts;
- **libraries only** (``bench/targets.py stack``): every package ``serve`` loads, set up
  as ``serve`` sets it up (bare Bolt, a SQLModel table on aiosqlite, pydantic-settings,
  httpx with TLS, Prometheus, ``auth.test``) and no StreamOps module: the floor under
  ``serve``'s idle memory; its ``/healthz`` answers 200 after a query;
- **StreamOps, fresh database**: ``python -m bot serve`` (what ``streamops serve``
  runs) on a new, empty SQLite file, so every migration is applied first;
- **StreamOps, current database**: the same on the database the previous round
  migrated (the usual restart);
- with ``--postgres``, **StreamOps on PostgreSQL** (current schema: the first round
  migrates it, which is reported apart).

Each line also gives the server's idle RSS (``VmRSS`` 0.5 s after its first
200; issue 20's goal: ≤ 80 MB). ``--python`` runs StreamOps with another interpreter:
the development virtualenv holds packages the Docker image does not (rich and
pygments, which httpx's CLI module loads when present).

Slack's ``auth.test`` (checked before ``serve`` accepts requests) goes to the bench's
fake Slack in a sandbox process. Issue 20's goal: ≤ 1.5 s with migrations applied.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench.image_python import image_env, precompile
from bench.notify_delay import machine_line
from bench.run import (
    BOT_TOKEN,
    REPO,
    SIGNING_SECRET,
    child,
    free_port,
    rss_mb,
    stop,
)
from storage.audit_keys import generate_key

GOAL_S = 1.5
RSS_GOAL_MB = 80.0
#: bench/targets.py ``stack``: the packages ``serve`` loads, set up as it does, no StreamOps code
FLOOR = "libraries only (no StreamOps)"


async def first_answer(
    session: aiohttp.ClientSession,
    url: str,
    proc: asyncio.subprocess.Process,
    *,
    want_ok: bool,
    within: float = 30,
) -> float:
    """Poll ``url`` every 5 ms; the monotonic time of the first (200) answer."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"server exited with {proc.returncode} during start-up")
        try:
            async with session.get(url) as response:
                if response.status == 200 or not want_ok:
                    return time.monotonic()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within {within} s")


IDLE_AFTER_S = 0.5


async def time_process(
    argv: list[str], env: dict[str, str], url: str, *, want_ok: bool
) -> tuple[float, float]:
    """Seconds from exec of ``argv`` to the first answer at ``url``, and the process's
    resident set (MB) ``IDLE_AFTER_S`` later; the process is stopped."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=REPO, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
            answered = await first_answer(session, url, proc, want_ok=want_ok)
        await asyncio.sleep(IDLE_AFTER_S)
        return answered - started, rss_mb(proc.pid)
    except RuntimeError:
        assert proc.stderr is not None
        proc.terminate()
        err = (await proc.stderr.read()).decode(errors="replace")
        raise RuntimeError(f"{' '.join(argv[1:3])} did not start:\n{err[-2000:]}") from None
    finally:
        await stop(proc)


def serve_env(config: dict[str, str], database_url: str) -> dict[str, str]:
    """The environment ``streamops serve`` reads, for the bench's fake Slack and sandbox,
    with the Docker image's interpreter settings (``bench.image_python``)."""
    env = {**os.environ, **config, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    return image_env(env)


async def bench(args: argparse.Namespace) -> int:
    """Run the rounds and print the table; 0 unless something failed to start."""
    print(machine_line("start"), flush=True)
    with tempfile.TemporaryDirectory(prefix="streamops-startup-") as tmp:
        workdir = Path(tmp)
        async with child(
            "sandbox", cpu=None, config={"webhook_token": ""}, log_path=workdir / "sandbox.log"
        ) as sandbox_proc:
            assert sandbox_proc.stdout is not None
            line = await asyncio.wait_for(sandbox_proc.stdout.readline(), 60)
            if not line:
                raise RuntimeError((workdir / "sandbox.log").read_text())
            sandbox = json.loads(line)
            config = {
                **sandbox["settings"],
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"{sandbox['slack_url']}/api/",
                "STREAMOPS_LOG_LEVEL": "WARNING",
                "STREAMOPS_AUDIT_KEY": generate_key(),
            }
            times: dict[str, list[float]] = {}
            rss: dict[str, list[float]] = {}
            current = f"sqlite+aiosqlite:///{workdir / 'current.db'}"
            precompile(args.python, REPO)  # as the image build does
            floor_config = {**config, "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'floor.db'}"}
            for i in range(args.rounds):
                for label, kind, target_env in (
                    ("bare Starlette", "starlette", {}),
                    (FLOOR, "stack", {"BENCH_CONFIG": json.dumps(floor_config)}),
                ):
                    port = free_port()
                    target = [args.python, str(REPO / "bench" / "targets.py"), kind]
                    took, resident = await time_process(
                        [*target, "--port", str(port)],
                        image_env({**os.environ, **target_env}),
                        f"http://127.0.0.1:{port}/healthz",
                        want_ok=kind == "stack",
                    )
                    times.setdefault(label, []).append(took)
                    rss.setdefault(label, []).append(resident)
                runs = [
                    ("StreamOps, fresh SQLite", f"sqlite+aiosqlite:///{workdir / f'fresh{i}.db'}"),
                    ("StreamOps, current SQLite" if i else "(first migration)", current),
                ]
                if args.postgres:
                    label = "StreamOps, current PostgreSQL" if i else "(first PostgreSQL run)"
                    runs.append((label, args.postgres))
                for label, url in runs:
                    port = free_port()
                    argv = [args.python, "-m", "bot", "serve", "--port", str(port)]
                    took, resident = await time_process(
                        argv,
                        serve_env(config, url),
                        f"http://127.0.0.1:{port}/healthz",
                        want_ok=True,
                    )
                    times.setdefault(label, []).append(took)
                    rss.setdefault(label, []).append(resident)
    base = statistics.median(times["bare Starlette"])
    print(f"start-up: exec → first answer (/healthz 200 for StreamOps), {args.rounds} rounds")
    for label, values in times.items():
        if label.startswith("("):
            continue
        med = statistics.median(values)
        print(
            f"  {label:30} median {med * 1000:7.0f} ms  max {max(values) * 1000:7.0f} ms"
            f"  ÷ bare Starlette {med / base:5.2f}×"
            f"  idle RSS {statistics.median(rss[label]):6.1f} MB"
        )
    fresh = max(times["StreamOps, fresh SQLite"])
    verdict = "PASS" if fresh <= GOAL_S else "FAIL"
    print(f"  {verdict}  start-up ≤ {GOAL_S} s with migrations applied: max {fresh:.2f} s")
    idle = statistics.median(rss["StreamOps, current SQLite"])
    verdict = "PASS" if idle <= RSS_GOAL_MB else "FAIL"
    print(
        f"  {verdict}  idle RSS ≤ {RSS_GOAL_MB:.0f} MB ({IDLE_AFTER_S} s after the first 200,"
        f" current SQLite): median {idle:.1f} MB"
    )
    floor = statistics.median(rss[FLOOR])
    print(
        f"  the libraries alone idle at {floor:.1f} MB: StreamOps' own share is"
        f" {idle - floor:.1f} MB; the goal leaves it {RSS_GOAL_MB - floor:.1f} MB"
    )
    print(machine_line("end"), flush=True)
    return 0


def main() -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="at least 2: the first round migrates the database the later ones restart on",
    )
    parser.add_argument("--postgres", help="also start on this PostgreSQL URL")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter that runs `-m bot serve`, e.g. a virtualenv installed from"
        " requirements.lock as the Docker image is (default: this one)",
    )
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (round 1 only migrates the current database)")
    return asyncio.run(bench(args))


if __name__ == "__main__":
    raise SystemExit(main())
