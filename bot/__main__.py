"""``python -m bot`` is ``streamops``."""

from bot.cli import main

raise SystemExit(main())
