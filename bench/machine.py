"""What the benchmark ran on: cores, CPU model, memory, Python and package versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

PACKAGES = (
    "starlette",
    "uvicorn",
    "h11",
    "httptools",
    "uvloop",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "httpx",
    "SQLAlchemy",
    "aiosqlite",
    "sqlmodel",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git_commit(repo: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def describe(repo: Path) -> dict[str, str]:
    """Key facts about this machine and software stack, in display order."""
    facts = {
        "nproc": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "memory": _memory(),
        "kernel": platform.release(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "commit": _git_commit(repo),
    }
    facts.update({name: _version(name) for name in PACKAGES})
    return facts
