"""The webhook models' length limits are the columns' lengths: read from the tables, not copied."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column

from bot.webhooks.models import (
    STREAMPIXEL_PREFIX,
    STREAMSTACK_PREFIX,
    StreampixelWebhook,
    StreamStackWebhook,
)
from storage.builds import KnownBuild, QueuedDistribution
from storage.outbox import OutboxRow
from storage.timeline import ReleaseEvent
from storage.webhooks import NotificationMessage, WebhookDelivery
from tests.webhook_helpers import streampixel, streamstack


def column(table: Any, name: str) -> Column[Any]:
    return table.__table__.c[name]  # type: ignore[no-any-return]


SUBJECT_KEYS = [column(OutboxRow, "subject_key"), column(NotificationMessage, "subject_key")]

#: Each stored field, a body to put it in, and every column it lands in (the intake's writes).
STORED: list[tuple[str, type[BaseModel], Any, list[Column[Any]], int]] = [
    (
        "event",
        StreampixelWebhook,
        lambda v: {**streampixel("build.uploaded"), "event": v},
        [column(WebhookDelivery, "event")],
        0,
    ),
    (
        "projectId",
        StreampixelWebhook,
        lambda v: {**streampixel("build.uploaded"), "projectId": v},
        [
            column(WebhookDelivery, "project"),
            column(KnownBuild, "project_id"),
            column(ReleaseEvent, "project_id"),
            column(QueuedDistribution, "project_id"),
        ],
        0,
    ),
    (
        "uploadId",
        StreampixelWebhook,
        lambda v: {**streampixel("build.uploaded"), "uploadId": v},
        [
            column(WebhookDelivery, "subject"),
            column(KnownBuild, "upload_id"),
            column(ReleaseEvent, "upload_id"),
            column(QueuedDistribution, "upload_id"),
            *SUBJECT_KEYS,
        ],
        len(STREAMPIXEL_PREFIX),
    ),
    (
        "status",
        StreampixelWebhook,
        lambda v: {**streampixel("build.uploaded"), "status": v},
        [column(KnownBuild, "last_status")],
        0,
    ),
    (
        "event",
        StreamStackWebhook,
        lambda v: {**streamstack("media.uploaded"), "event": v},
        [column(WebhookDelivery, "event")],
        0,
    ),
    (
        "uuid",
        StreamStackWebhook,
        lambda v: {**streamstack("media.uploaded"), "uuid": v},
        [column(WebhookDelivery, "subject"), *SUBJECT_KEYS],
        len(STREAMSTACK_PREFIX),
    ),
    (
        "data.uuid",
        StreamStackWebhook,
        lambda v: {"event": "media.uploaded", "data": {"uuid": v}},
        [column(WebhookDelivery, "subject"), *SUBJECT_KEYS],
        len(STREAMSTACK_PREFIX),
    ),
]


def room(columns: list[Column[Any]], prefix: int) -> int:
    """The longest value every column can hold (a subject key also holds ``<provider>:``)."""
    sizes = []
    for col in columns:
        length = col.type.length  # type: ignore[attr-defined]
        assert isinstance(length, int), col
        sizes.append(length - prefix if col.name == "subject_key" else length)
    return min(sizes)


@pytest.mark.parametrize(
    ("field", "model", "body", "columns", "prefix"),
    STORED,
    ids=[f"{m.__name__}.{f}" for f, m, *_ in STORED],
)
def test_a_stored_field_takes_exactly_what_its_columns_hold(
    field: str, model: type[BaseModel], body: Any, columns: list[Column[Any]], prefix: int
) -> None:
    limit = room(columns, prefix)
    model.model_validate(body("é" * limit))  # characters, not bytes, as the columns count
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body("x" * (limit + 1)))
    [error] = refused.value.errors()
    assert (".".join(map(str, error["loc"])), error["type"]) == (field, "string_too_long")
