"""Per-request secrets are masked for a while and the set of them stays bounded."""

from __future__ import annotations

import logging

from bot.redact import MASK, RedactingFilter


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("streamops", logging.INFO, __file__, 1, message, None, None)


def test_a_per_request_secret_is_masked_until_it_expires() -> None:
    """Within its time a transient secret is masked; after it, it is forgotten."""
    now = [1000.0]
    guard = RedactingFilter(transient_seconds=60, clock=lambda: now[0])
    guard.add_transient("presigned-query-abc")
    record = _record("PUT https://up.example/?presigned-query-abc")
    guard.filter(record)
    assert record.getMessage() == f"PUT https://up.example/?{MASK}"
    now[0] += 61
    assert guard.active() == set()


def test_the_transient_set_never_grows_past_its_limit() -> None:
    """Ten thousand per-request secrets leave at most the limit held, the newest ones."""
    guard = RedactingFilter(transient_limit=100, clock=lambda: 0.0)
    for n in range(10_000):
        guard.add_transient(f"encoder-key-{n:05d}")
    held = guard.active()
    assert len(held) == 100
    assert "encoder-key-09999" in held
    assert "encoder-key-00000" not in held


def test_configured_secrets_never_expire() -> None:
    """API keys registered at start-up stay masked whatever happens to transient ones."""
    now = [0.0]
    guard = RedactingFilter(
        ["sp-api-key-123"], transient_seconds=1, transient_limit=1, clock=lambda: now[0]
    )
    guard.add_transient("a", "b", "c")
    now[0] += 10
    assert guard.active() == {"sp-api-key-123"}
