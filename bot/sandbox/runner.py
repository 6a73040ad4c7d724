"""Start the three provider simulators on local ports (``streamops sandbox``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.sandbox import streamapi, streampixel, streamstack
from bot.sandbox.streamapi import StreamAPISimulator
from bot.sandbox.streampixel import StreampixelSimulator
from bot.sandbox.streamstack_state import DEMO_API_KEY as SS_KEY
from bot.sandbox.streamstack_state import StreamStackSimulator
from bot.serving import serve_in_background


@dataclass
class Sandbox:
    """The running simulators and the settings that point the bot at them."""

    streampixel: StreampixelSimulator
    streamstack: StreamStackSimulator
    streamapi: StreamAPISimulator
    settings: dict[str, str]


@contextlib.asynccontextmanager
async def run_sandbox(
    *,
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] = (0, 0, 0),
    webhook_base: str | None = None,
    webhook_token: str = "",
) -> AsyncIterator[Sandbox]:
    """Serve the three simulators with their demo data until the block ends.

    Args:
        ports: Streampixel, StreamStack and StreamAPI ports (0 picks free ones).
        webhook_base: the bot's base URL; when given, the Streampixel and
            StreamStack simulators post their webhooks to
            ``{webhook_base}/webhooks/<provider>/{webhook_token}``.
    """

    def hook(provider: str) -> str | None:
        return f"{webhook_base}/webhooks/{provider}/{webhook_token}" if webhook_base else None

    sp = StreampixelSimulator.with_demo_data(webhook_url=hook("streampixel"))
    ss = StreamStackSimulator.with_demo_data(webhook_url=hook("streamstack"))
    sa = StreamAPISimulator.with_demo_data()
    async with (
        serve_in_background(streampixel.create_app(sp), host, ports[0]) as sp_server,
        serve_in_background(streamstack.create_app(ss), host, ports[1]) as ss_server,
        serve_in_background(streamapi.create_app(sa), host, ports[2]) as sa_server,
    ):
        settings = {
            "STREAMPIXEL_BASE_URL": f"{sp_server.url}{streampixel.BASE_PATH}",
            "STREAMPIXEL_API_KEY": streampixel.DEMO_API_KEY,
            "STREAMPIXEL_USER_ID": streampixel.DEMO_USER_ID,
            "STREAMSTACK_BASE_URL": ss_server.url,
            "STREAMSTACK_API_KEY": SS_KEY,
            "STREAMAPI_BASE_URL": f"{sa_server.url}{streamapi.BASE_PATH}",
            "STREAMAPI_KEY": streamapi.DEMO_API_KEY,
            "STREAMAPI_SECRET": streamapi.DEMO_SECRET,
        }
        yield Sandbox(sp, ss, sa, settings)


async def run_forever(
    host: str,
    ports: tuple[int, int, int],
    *,
    webhook_base: str | None = None,
    webhook_token: str | None = None,
) -> None:
    """``streamops sandbox``: serve the simulators and print the settings that use them.

    Args:
        host: the address the simulators listen on.
        ports: Streampixel, StreamStack and StreamAPI ports (0 picks free ones).
        webhook_base: the bot's base URL; the simulated pipelines post their webhooks there.
        webhook_token: the token in those webhook URLs (a new one when not given); it is
            printed as ``STREAMOPS_WEBHOOK_TOKEN`` with the other settings.
    """
    import asyncio
    import secrets

    token = webhook_token or secrets.token_urlsafe(16)
    async with run_sandbox(
        host=host, ports=ports, webhook_base=webhook_base, webhook_token=token
    ) as sandbox:
        print("# Provider simulators are running. Point StreamOps at them with:")
        for name, value in sandbox.settings.items():
            print(f"export {name}={value}")
        if webhook_base:
            print(f"export STREAMOPS_WEBHOOK_TOKEN={token}")
            print(f"# Their webhooks go to {webhook_base}/webhooks/{{streampixel,streamstack}}/…")
        print("# (Ctrl-C stops them.)", flush=True)
        await asyncio.Event().wait()
