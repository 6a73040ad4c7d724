"""Webhook authentication: the secret path token and StreamStack's optional HMAC header."""

from __future__ import annotations

import hashlib
import hmac

STREAMSTACK_SIGNATURE_HEADER = "X-StreamStack-Signature"


def token_matches(given: str, expected: str | None) -> bool:
    """Constant-time comparison of the path token; always False when none is configured."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def streamstack_signature(body: bytes, secret: str) -> str:
    """The ``X-StreamStack-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def streamstack_signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` signs the raw ``body`` with ``secret`` (constant time)."""
    if not header:
        return False
    return hmac.compare_digest(
        header.strip().encode(), streamstack_signature(body, secret).encode()
    )
