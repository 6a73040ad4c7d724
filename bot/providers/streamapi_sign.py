"""StreamAPI request signing, shared by the client and the simulator.

The documented rule is ``md5_hex(values in name order + secret + rid)``. ``rid``
is itself a parameter, so the pseudo-code is ambiguous; Stickam's own Perl client
(``WWW::StreamAPI``) settles it: every parameter except ``sig`` and ``rid`` is
concatenated by name order (the API ``key`` included), then the secret, then
``rid`` once. Values are signed raw (before URL encoding), UTF-8, lowercase hex.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

#: Parameters that never enter the sorted part of the pre-image.
UNSIGNED = frozenset({"sig", "rid"})


def preimage(params: Mapping[str, str], secret: str, rid: str | int) -> str:
    """The string whose MD5 is the signature.

    Args:
        params: every request parameter (``key`` included); ``sig`` and ``rid`` are skipped.
        secret: the account's secret key.
        rid: the request id, appended once at the end.

    Returns:
        Values sorted by parameter name (byte-wise), then ``secret``, then ``rid``.
    """
    values = "".join(params[name] for name in sorted(params) if name not in UNSIGNED)
    return f"{values}{secret}{rid}"


def signature(params: Mapping[str, str], secret: str, rid: str | int) -> str:
    """The lowercase hex MD5 ``sig`` for a request.

    Args:
        params: every request parameter (``key`` included); ``sig`` and ``rid`` are skipped.
        secret: the account's secret key.
        rid: the request id.
    """
    return hashlib.md5(preimage(params, secret, rid).encode("utf-8")).hexdigest()
