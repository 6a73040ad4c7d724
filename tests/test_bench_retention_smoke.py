"""bench/retention.py runs end to end at a tiny size (sizes are checked, timings are not)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_retention_bench_keeps_the_tables_flat_at_a_tiny_size() -> None:
    """With pruning the last row counts stay at the window's worth; without, they keep growing."""
    result = subprocess.run(
        [
            sys.executable,
            "bench/retention.py",
            "--minutes", "12", "--rate", "3", "--retention", "2", "--prune-every", "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [
        [int(n) for n in line.split()]
        for line in result.stdout.splitlines()
        if re.fullmatch(r"\s*\d+(\s+\d+){4}\s*", line)
    ]
    minute, outbox_base, outbox_kept, deliveries_base, deliveries_kept = rows[-1]
    assert minute == 12
    assert outbox_base == deliveries_base == 36  # 3 a minute, never pruned
    assert outbox_kept == deliveries_kept <= 3 * (2 + 1)  # retention + one prune interval
    assert "intake while a prune runs: n=36" in result.stdout
    assert "intake, no prune running: no samples" in result.stdout
