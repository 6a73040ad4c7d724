"""Socket Mode: Slack's deliveries over a WebSocket the bot opens, instead of HTTP POSTs.

``streamops serve --socket-mode`` calls :func:`connect_socket_mode`. It asks
Slack for a connection URL (``apps.connections.open`` with the app-level
token) before anything else, so a mistyped, revoked or wrong kind of token
stops start-up with one line instead of slack_sdk's endless "Failed to
connect; Retrying..." tracebacks; the URL it got is the one the client
connects to (the method is rate limited, so it is not asked twice).

Deliveries then reach the same Bolt app as ``POST /slack/events`` (Bolt skips
the signature check for them; the WebSocket is authenticated by the token).
Slack may deliver an envelope again when its ack was lost with a dropped
connection. Slash commands and Events API deliveries (retries included, which
come in new envelopes) are run once by the replay guard, by their
``trigger_id`` / ``event_id``, as over HTTP; interactions have no such key, so
:class:`OnceSocketModeHandler` claims their ``envelope_id`` in the database
(shared by replicas, which each hold a connection) and acks a repeat without
running it. Reconnecting after a dropped connection or a ``disconnect``
message is slack_sdk's.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.slack_check import TOKEN_ERRORS, probe_client
from storage.coordination import ClaimStore

log = logging.getLogger("streamops.socket_mode")

#: Where to find the token, for the start-up error line.
_WHERE = (
    "an app-level token (xapp-…) with the connections:write scope, "
    "from the app's Basic Information page"
)

#: Envelope types claimed here (commands and events are claimed by the replay guard).
CLAIMED_TYPES = frozenset({"interactive"})


def envelope_key(envelope_id: str) -> str:
    """The claim key that runs one Socket Mode envelope once (pruned by retention)."""
    return f"slack-envelope:{envelope_id}"[:255]


class OnceSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, running each interaction's envelope once across replicas."""

    def __init__(self, app: AsyncApp, app_token: str, claims: ClaimStore) -> None:
        super().__init__(app, app_token)
        self.claims = claims

    async def handle(self, client: Any, req: SocketModeRequest) -> None:
        """Ack a repeated interaction at once; hand anything else to Bolt."""
        key = envelope_key(req.envelope_id)
        if req.type in CLAIMED_TYPES and not await self.claims.claim(key, "slack"):
            log.info("acked a repeated Socket Mode envelope without running it (%s)", req.type)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)


async def open_connection_url(slack: AsyncWebClient, app_token: str) -> str | None:
    """``apps.connections.open``: the WebSocket URL, or None when Slack cannot be reached.

    Raises:
        ConfigError: Slack refused the token, or Socket Mode is not on for the app.
    """
    try:
        response = await probe_client(slack, timeout=10).apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if error == "ratelimited":
            return None  # slack_sdk's client waits for Retry-After and asks again
        if error == "not_allowed_token_type":
            raise ConfigError(
                f"Slack refused SLACK_APP_TOKEN ({error}): it must be {_WHERE} "
                "(the xoxb-… bot token goes in SLACK_BOT_TOKEN)"
            ) from None
        if error in TOKEN_ERRORS:
            raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({error}): use {_WHERE}") from None
        raise ConfigError(
            f"Slack refused a Socket Mode connection ({error}): turn on Socket Mode in the "
            "app's settings (Settings › Socket Mode), or run `streamops serve` without "
            "--socket-mode"
        ) from None
    except Exception as exc:  # aiohttp.ClientError, timeouts: Slack cannot be reached
        log.warning("Slack could not be reached for Socket Mode: %s", type(exc).__name__)
        return None
    return str(response["url"])


async def connect_socket_mode(
    bolt: AsyncApp, app_token: str, claims: ClaimStore
) -> OnceSocketModeHandler:
    """Check the app token, then connect; the handler reconnects by itself from then on.

    Raises:
        ConfigError: Slack refused the app token (see :func:`open_connection_url`).
    """
    url = await open_connection_url(bolt.client, app_token)
    handler = OnceSocketModeHandler(bolt, app_token, claims)
    handler.client.wss_uri = url  # None: the client asks Slack itself, retrying
    await handler.connect_async()  # type: ignore[no-untyped-call]  # untyped in slack_bolt
    log.info("connected to Slack over Socket Mode")
    return handler
