"""``streamops serve`` loads only what serving needs (idle memory, issue 20).

A fresh interpreter imports what ``streamops serve`` imports (``bot.cli``, then
``bot.server``), builds the app with every provider configured, and reports
which of the modules only other commands or tests need were loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Modules ``serve`` must not load: other subcommands, charts (loaded by the Chart button
#: only), migrations (applied in a child process), test and benchmark tools.
FORBIDDEN = (
    "bot.demo",
    "bot.sandbox",
    "bench",
    "matplotlib",
    "numpy",
    "PIL",
    "alembic",
    "mako",
    "hypothesis",
    "pytest",
    "playwright",
    "tests",
)

_SCRIPT = """
import json, sys
from bot.cli import main  # the console script's module
from bot.server import create_app  # what `streamops serve` imports
from bot.settings import Settings

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
print(json.dumps(sorted(
    name for name in sys.modules
    if any(name == f or name.startswith(f + ".") for f in forbidden)
)))
"""


def test_serve_imports_none_of_the_demo_sandbox_charts_migrations_or_test_tools(
    tmp_path: Path,
) -> None:
    """After building the app as ``serve`` does, no forbidden module is in ``sys.modules``."""
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
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
