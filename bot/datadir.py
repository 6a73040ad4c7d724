"""Start-up check of the SQLite data directory: fail with instructions, not a SQLite traceback.

A container's ``/data`` bind-mounted from a root-owned host directory is not writable by the
service user (uid 10001); SQLite would then fail deep inside the first migration with "unable
to open database file". This check names the directory, its owner and the fixes.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import ConfigError


def sqlite_directory(database_url: str) -> Path | None:
    """The directory holding the SQLite file of ``database_url`` (None: not a file database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve().parent


def check_data_directory(database_url: str) -> None:
    """Raise :class:`ConfigError` when the SQLite file's directory is missing or not writable.

    Args:
        database_url: the configured ``DATABASE_URL``; other databases pass unchecked.
    """
    directory = sqlite_directory(database_url)
    if directory is None:
        return
    try:
        stat = directory.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"the database directory {directory} does not exist: create it, or mount a volume there"
        ) from None
    except OSError:  # a parent we may not enter
        owner = "unknown: a parent directory is not accessible"
    else:
        if os.access(directory, os.W_OK | os.X_OK):
            return
        owner = f"{stat.st_uid}:{stat.st_gid}"
    raise ConfigError(
        f"the database directory {directory} is not writable by uid {os.getuid()} "
        f"(owner {owner}). For a bind mount, run "
        f"'chown -R {os.getuid()}:{os.getgid()} <host directory>' on the host, start the "
        "container as root (the entrypoint then fixes the owner and drops privileges), "
        "or use a named volume or PostgreSQL"
    )
