"""``DATABASE_URL`` checked at start-up: one line saying what to write instead.

StreamOps talks to its database through SQLAlchemy's asyncio drivers, so the
URL must name one: ``sqlite+aiosqlite:///path`` or
``postgresql+asyncpg://user@host/db``. The URLs people paste from other tools
(``postgresql://``, ``postgres://``, ``sqlite:///``) would otherwise fail deep
inside the first query with a driver traceback.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SQLITE = "sqlite+aiosqlite"
POSTGRES = "postgresql+asyncpg"


def _with_scheme(url: str, scheme: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url.split(":", 1)[-1]
    return f"{scheme}://{rest}"


def check_database_url(url: str) -> str:
    """``url`` unchanged when StreamOps can use it; ValueError naming the fix otherwise."""
    if not url.strip():
        raise ValueError(f"it is empty; write e.g. {SQLITE}:///./streamops.db")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            f"'{url.split('://', 1)[0]}://…' is not a database URL; write "
            f"{SQLITE}:///./streamops.db or {POSTGRES}://user:password@host:5432/dbname"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        if driver != "aiosqlite":
            fix = _with_scheme(url, SQLITE)
            raise ValueError(f"SQLite needs the async driver: write {fix}")
        return url
    if backend in ("postgresql", "postgres"):
        if driver != "asyncpg":
            fix = parsed.set(drivername=POSTGRES).render_as_string(hide_password=True)
            raise ValueError(f"PostgreSQL needs the asyncpg driver: write {fix}")
        return url
    raise ValueError(
        f"unsupported database '{backend}'; use {SQLITE}:///./streamops.db or "
        f"{POSTGRES}://user:password@host:5432/dbname"
    )
