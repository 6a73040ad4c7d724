"""Run ASGI apps in-process on loopback ports (for the sandbox, the demo and tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves Ctrl-C to the program that embeds it.

    uvicorn's own handler would stop every embedded server at once (simulators before
    the bot that calls them); without it, Ctrl-C cancels the program's main task and
    each ``async with`` block stops its server in order.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class BackgroundServer:
    """A uvicorn server running as a task of the current event loop.

    Args:
        app: any ASGI application.
        host: the address to bind (loopback by default).
        port: the port to bind; 0 picks a free one, read back from :attr:`port`.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it, Nagle + delayed ACK adds ~40 ms
        # to every request on a reused loopback connection.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start serving and wait until the server accepts connections."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                await self._task  # re-raises the start-up failure
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Ask the server to finish and wait for it."""
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._sock.close()


@contextlib.asynccontextmanager
async def serve_in_background(
    app: Any, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[BackgroundServer]:
    """Serve ``app`` for the duration of the ``async with`` block."""
    server = BackgroundServer(app, host, port)
    try:
        await server.start()  # (interrupted while starting, it is still stopped below)
        yield server
    finally:
        await server.stop()
