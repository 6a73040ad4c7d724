"""A/B: the keyed verify walk against the previous, unkeyed one, on the same rows in one run.

Fills ``--rows`` keyed rows (as ``bench/audit_queries.py`` does), loads the
previous walk (``storage/audit_verify.py`` at ``--baseline``, read with
``git show``; it checks the hash chain only, and ignores the key columns), and
times both walks over the same database, alternating, ``--rounds`` times. On a
shared machine the absolute times move with the load; the ratio is the figure.

Usage::

    python bench/audit_verify_ab.py [--rows N] [--rounds N] [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.audit_queries import fill, make_rows
from storage import migrate
from storage.audit import CHECKPOINTS, ENTRIES, AuditLog
from storage.audit_keys import KeyRing, generate_key
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
#: The last commit before the audit key (issue 16).
BASELINE = "b2e66f9"


def previous_walk(commit: str, workdir: Path) -> ModuleType:
    """``storage/audit_verify.py`` as it was at ``commit``, imported as its own module."""
    source = subprocess.run(
        ["git", "show", f"{commit}:storage/audit_verify.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = workdir / "previous_audit_verify.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("previous_audit_verify", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def main(argv: list[str] | None = None) -> None:
    """Fill, then time both walks alternately and print each round's ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default=BASELINE, help="commit of the previous walk")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="audit-ab-") as tmp:
        previous = previous_walk(args.baseline, Path(tmp))
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'ab.db'}")
        try:
            await migrate.upgrade(db)
            keys = KeyRing.from_texts(generate_key())
            await fill(db, make_rows(args.rows, random.Random(6), keys.current))
            log = AuditLog(db, keys=keys)
            print(f"{args.rows:,} keyed rows; previous walk from {args.baseline}")
            for round_no in range(1, args.rounds + 1):
                t0 = time.perf_counter()
                async with db.read() as conn:
                    old = await previous.verify_chain(conn, ENTRIES, CHECKPOINTS)
                t_old = time.perf_counter() - t0
                t0 = time.perf_counter()
                new = await log.verify()
                t_new = time.perf_counter() - t0
                assert old.ok and new.ok and new.keyed_rows == args.rows
                print(
                    f"round {round_no}: previous walk (hash chain) {t_old:.1f} s;"
                    f" keyed walk (hash chain + HMAC per row) {t_new:.1f} s;"
                    f" keyed ÷ previous {t_new / t_old:.2f}"
                )
        finally:
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
