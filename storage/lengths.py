"""Lengths of the string columns that hold text from outside (webhooks, provider replies).

Defined once: the table models declare their columns with these, and the pydantic
models that read webhook bodies and provider replies (``bot.webhooks.models``,
``bot.providers.*_models``) limit their fields with the same numbers, so a value
that passes validation always fits its column (PostgreSQL refuses a longer one;
SQLite would keep it silently). Changing one needs a migration.
"""

from __future__ import annotations

PROVIDER = 16
"""``webhook_deliveries.provider``, ``subscriptions.provider``."""

EVENT = 64
"""``webhook_deliveries.event``."""

WEBHOOK_SUBJECT = 128
"""``webhook_deliveries.subject``: a build's ``uploadId`` or a video's uuid."""

WEBHOOK_PROJECT = 128
"""``webhook_deliveries.project``, ``subscriptions.project``."""

PROJECT_ID = 64
"""A Streampixel project id: ``known_builds``, ``release_events``, ``project_names``, ..."""

UPLOAD_ID = 64
"""A Streampixel upload id: ``known_builds``, ``release_events``, ``queued_distributions``."""

BUILD_STATUS = 64
"""``known_builds.last_status``: Streampixel's raw pipeline status."""

PROJECT_NAME = 200
"""``project_names.name``."""

SUBJECT_KEY = 200
"""``outbox.subject_key``, ``notification_messages.subject_key``: ``<provider>:<subject>``."""

VIDEO_ID = min(WEBHOOK_SUBJECT, SUBJECT_KEY - len("streamstack:"))
"""A StreamStack video uuid (webhook or reconciliation): delivery subject and subject key."""
