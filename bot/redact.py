"""Keep secrets out of log records.

httpx logs every request URL at INFO (encode/httpx#2760), and Streampixel's
projects-status puts the API key in the query string. A :class:`RedactingFilter`
rewrites any record whose text contains a registered secret before any handler
sees it. :func:`protect_loggers` installs one on every logger that sees URLs.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

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


#: Per-request secrets (a presigned URL, a new session's encoder key) are masked
#: this long after they were handed out, and at most this many at once: the
#: oldest are forgotten first, so a long-running process holds a bounded set.
TRANSIENT_SECONDS = 15 * 60
TRANSIENT_LIMIT = 1024


class RedactingFilter(logging.Filter):
    """A filter that masks known secret values in a record's final message.

    Configured secrets (API keys, tokens) are kept for the life of the process;
    per-request secrets are kept for :data:`TRANSIENT_SECONDS`, at most
    :data:`TRANSIENT_LIMIT` of them.
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        transient_seconds: float = TRANSIENT_SECONDS,
        transient_limit: int = TRANSIENT_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s}
        self._transient: OrderedDict[str, float] = OrderedDict()
        self._transient_seconds = transient_seconds
        self._transient_limit = transient_limit
        self._clock = clock

    def add(self, *secrets: str | None) -> None:
        """Register configured secret values for good (empty ones are ignored)."""
        self.secrets.update(s for s in secrets if s)

    def add_transient(self, *secrets: str | None) -> None:
        """Register per-request secret values for a while (empty ones are ignored)."""
        expires = self._clock() + self._transient_seconds
        for secret in secrets:
            if secret:
                self._transient.pop(secret, None)
                self._transient[secret] = expires
        while len(self._transient) > self._transient_limit:
            self._transient.popitem(last=False)

    def active(self) -> set[str]:
        """Every secret masked right now (expired per-request ones are dropped)."""
        now = self._clock()
        while self._transient:
            oldest, expires = next(iter(self._transient.items()))
            if expires > now:
                break
            del self._transient[oldest]
        return self.secrets | self._transient.keys()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.active()
        if not secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, secrets)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        return True


_FILTER = RedactingFilter()


def _attach(*names: str) -> RedactingFilter:
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER


def protect_loggers(*secrets: str | None) -> RedactingFilter:
    """Register configured ``secrets`` and make sure every URL-logging logger masks them.

    Logger-level filters only see records created on that exact logger, so the
    filter is attached to each name in :data:`URL_LOGGERS`. Safe to call often.
    """
    _FILTER.add(*secrets)
    return _attach(*URL_LOGGERS)


def protect_transient(*secrets: str | None, loggers: Iterable[str] = ()) -> RedactingFilter:
    """Mask per-request ``secrets`` for a while, on the URL loggers and ``loggers``."""
    _FILTER.add_transient(*secrets)
    return _attach(*URL_LOGGERS, *loggers)
