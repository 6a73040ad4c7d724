"""Every table model, imported here so SQLModel.metadata knows them all.

Each feature keeps its tables in its own module; this one only gathers them.
"""

from __future__ import annotations

import storage.live_sessions
import storage.outbox
import storage.subscriptions
import storage.webhooks  # noqa: F401  (webhooks: deliveries, notification messages)
