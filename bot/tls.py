"""The one TLS context every httpx client of the process verifies servers with.

httpx builds a context per client or transport by default, and each one parses
certifi's CA bundle again (~0.8 MB resident apiece): the three provider pools and
the Slack file reader made four identical contexts. They share this one instead;
it is what httpx would build for each of them (``verify=True``, certifi's CAs,
``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured), built once, on first use.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default client context (certificate verification on), built once per process."""
    return httpx.create_ssl_context()
