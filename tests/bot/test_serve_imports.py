"""``streamops serve`` loads only what serving needs (idle memory, issue 20).

A fresh interpreter imports what ``streamops serve`` imports (``bot.cli``, then
``bot.server``), builds the app with every provider configured, and reports
which of the modules only other commands or tests need were loaded, and how
many TLS contexts building the app made (each parses a CA bundle, ~0.8 MB).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

#: Modules ``serve`` must not load: other subcommands, charts (loaded by the Chart button
#: only), migrations (applied in a child process), the XML parser (loaded by the first
#: StreamAPI reply), SQLAlchemy's PostgreSQL dialect on SQLite (~2.2 MB; the app below
#: runs on SQLite, and a PostgreSQL engine loads it), test and benchmark tools.
FORBIDDEN = (
    "bot.demo",
    "bot.sandbox",
    "bench",
    "matplotlib",
    "numpy",
    "PIL",
    "alembic",
    "mako",
    "xml.etree",
    "defusedxml",
    "sqlalchemy.dialects.postgresql",
    "hypothesis",
    "pytest",
    "playwright",
    "tests",
)

_SCRIPT = """
import gc, json, ssl, sys
from bot.cli import main  # the console script's module
import bot.server  # what `streamops serve` imports; serve() then imports the app:
from bot.app import create_app
from bot.settings import Settings

def tls_contexts():
    return sum(isinstance(o, ssl.SSLContext) for o in gc.get_objects())

contexts_before = tls_contexts()  # the libraries' own (aiohttp builds its defaults on import)

settings = Settings(
    _env_file=None,
    SLACK_BOT_TOKEN="xoxb-import-check",
    SLACK_SIGNING_SECRET="import-check-signing-secret",
    DATABASE_URL="sqlite+aiosqlite:///" + sys.argv[1],
    STREAMPIXEL_API_KEY="sp-import-check-key",
    STREAMPIXEL_USER_ID="user-import-check",
    STREAMSTACK_API_KEY="ss-import-check-key",
    STREAMAPI_KEY="sa-import-check-key",
    STREAMAPI_SECRET="sa-import-check-secret",
)
app = create_app(settings)
forbidden = json.loads(sys.argv[2])
print(json.dumps({
    "forbidden": sorted(
        name for name in sys.modules
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ),
    "tls_contexts_built": tls_contexts() - contexts_before,
}))
"""


def _build_app_as_serve_does(tmp_path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "s.db"), json.dumps(FORBIDDEN)],
        cwd=tmp_path,  # not the repository: its packages come from the install, as in production
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_serve_imports_none_of_the_demo_sandbox_charts_migrations_or_test_tools(
    tmp_path: Path,
) -> None:
    """After building the app as ``serve`` does, no forbidden module is in ``sys.modules``."""
    assert _build_app_as_serve_does(tmp_path)["forbidden"] == []


def test_the_app_builds_one_tls_context_for_all_its_http_clients(tmp_path: Path) -> None:
    """The three provider clients and the Slack file reader share one (bot.tls), not four."""
    assert _build_app_as_serve_does(tmp_path)["tls_contexts_built"] == 1
