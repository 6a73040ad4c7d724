"""Keep secrets out of log records.

httpx logs every request URL at INFO (encode/httpx#2760), and Streampixel's
projects-status puts the API key in the query string. A :class:`RedactingFilter`
rewrites any record whose text contains a registered secret before any handler
sees it. :func:`protect_loggers` installs one on every logger that sees URLs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "***"

#: Loggers that may format request URLs or headers.
URL_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "slack_sdk",
    "slack_sdk.web.async_base_client",
    "slack_sdk.webhook.async_client",
    "slack_bolt",
    "streamops",
    "uvicorn.access",
)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in ``text`` with ``***``."""
    # Longest first: a short secret must not break up a longer one before it is masked.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """A filter that masks known secret values in a record's final message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s}

    def add(self, *secrets: str | None) -> None:
        """Register more secret values (empty ones are ignored)."""
        self.secrets.update(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


_FILTER = RedactingFilter()


def protect_loggers(*secrets: str | None) -> RedactingFilter:
    """Register ``secrets`` and make sure every URL-logging logger masks them.

    Logger-level filters only see records created on that exact logger, so the
    filter is attached to each name in :data:`URL_LOGGERS`. Safe to call often.
    """
    _FILTER.add(*secrets)
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER
