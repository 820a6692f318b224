"""Serve a Gradio app on 127.0.0.1 like a Space: agents.md beside it, faults in front of it.

The Gradio app is mounted into a FastAPI app that also answers ``GET /agents.md`` (the newer
format, URLs on its own host and port) and runs the HTTP-level fault kinds (503 on call,
500 on poll, truncated file downloads) plus the fixed latency. uvicorn serves it from a
daemon thread on a socket bound before the thread starts, so the port is known at once.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from spacesmith.tools.standins.faults import Faults

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

AGENTS_MD = "\n".join([
    "To use this application ({title}):",
    "API schema: GET {base}/gradio_api/info",
    'Call endpoint: POST {base}/gradio_api/call/v2/{{endpoint}} {{"param_name": value, ...}}',
    "Poll result: GET {base}/gradio_api/call/{{endpoint}}/{{event_id}}",
    'File inputs: POST {base}/gradio_api/upload -F "files=@file.ext", use as: '
    '{{"path": "<returned-path>", "meta": {{"_type": "gradio.FileData"}}, '
    '"orig_name": "file.ext"}}',
    "Auth: Bearer $HF_TOKEN (https://huggingface.co/settings/tokens)",
    "",
])


def agents_md_text(title: str, base: str) -> str:
    """The newer-generation agents.md a Space with base URL ``base`` would have."""
    return AGENTS_MD.format(title=title, base=base.rstrip("/"))


class FaultMiddleware:
    """HTTP-level fault kinds and the fixed latency, in front of the Gradio routes."""

    def __init__(self, app: ASGIApp, faults: Faults, latency: float) -> None:
        self.app = app
        self.faults = faults
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "POST" and path.startswith("/gradio_api/call/"):
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            if self.faults.draw("call") == "503":
                body = {"detail": "Queue is full. Max size is 2 and size is 2."}
                await _respond(send, 503, json.dumps(body).encode(), "application/json")
                return
        elif method == "GET" and (path == "/gradio_api/queue/data" or (
                path.startswith("/gradio_api/call/") and path.count("/") >= 4)):
            if self.faults.draw("poll") == "500":
                await _respond(send, 500, b"Internal Server Error", "text/plain")
                return
        elif method == "GET" and path.startswith("/gradio_api/file=") and (
            self.faults.draw("file") == "truncated"
        ):
            await self.app(scope, receive, _truncating(send))
            return
        await self.app(scope, receive, send)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _truncating(send: Send) -> Send:
    """Pass on half of the declared body, then end it: the connection breaks mid-download."""
    state = {"left": -1, "done": False}

    async def wrapped(message: Message) -> None:
        if state["done"]:
            return
        if message["type"] == "http.response.start":
            length = dict(message.get("headers", [])).get(b"content-length", b"0")
            state["left"] = int(length) // 2
            await send(message)
            return
        if message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")[: max(state["left"], 0)]
            state["left"] -= len(body)
            if state["left"] <= 0 or not message.get("more_body", False):
                state["done"] = True
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send({"type": "http.response.body", "body": body, "more_body": True})
            return
        await send(message)

    return wrapped


class StandinServer:
    """One stand-in Space: a Gradio app served by uvicorn in a daemon thread.

    Use :func:`serve_blocks` to make one; ``url`` is its base URL and ``agents_md_url`` the
    URL of its agents.md. ``close()`` stops the server and ends hanging faults.
    """

    def __init__(self, server: Any, thread: threading.Thread, url: str, faults: Faults,
                 blocks: Any) -> None:
        self._server = server
        self._thread = thread
        self.url = url
        self.agents_md_url = f"{url}/agents.md"
        self.faults = faults
        self.blocks = blocks

    def __enter__(self) -> StandinServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving; hanging and slow in-app faults end at once."""
        self.faults.stop.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.blocks.close()


def serve_blocks(
    blocks: Any,
    *,
    title: str,
    faults: Faults | None = None,
    latency: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 0,
    agents_md: str | None = None,
    extra_routes: Callable[[Any], None] | None = None,
    concurrency: int = 1,
) -> StandinServer:
    """Serve a ``gr.Blocks`` app on ``host:port`` with an agents.md beside it.

    Args:
        blocks: the Gradio app (its queue is set up here if it has none).
        title: the title line of the agents.md.
        faults: the HTTP-level faults to inject (the in-app ones are the app's business).
        latency: seconds added to every ``POST /gradio_api/call/...``.
        host: the interface to bind.
        port: the port; 0 picks a free one.
        agents_md: serve this text instead of the generated one (``{base}`` becomes the base
            URL); ``""`` serves no agents.md at all (404, like a bare Gradio app).
        extra_routes: called with the FastAPI app to add routes before Gradio is mounted.
        concurrency: events each endpoint runs at once (gradio's default, and a real
            Space's unless its author raised it, is 1; the rest wait in the queue).

    Returns:
        The running server.

    Raises:
        OSError: the port cannot be bound.
        RuntimeError: the server did not start within 20 s.
    """
    import fastapi
    import gradio as gr
    import uvicorn
    from fastapi.responses import PlainTextResponse

    faults = faults or Faults()
    # proto must be IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) on accepted sockets only
    # when it is, and without that every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}"
    app = fastapi.FastAPI()
    text = agents_md_text(title, url) if agents_md is None else agents_md.replace("{base}", url)
    if text:
        @app.get("/agents.md")
        def _agents_md() -> PlainTextResponse:
            return PlainTextResponse(text)

    if extra_routes is not None:
        extra_routes(app)
    blocks.queue(default_concurrency_limit=concurrency)
    app = gr.mount_gradio_app(app, blocks, path="", show_error=False, ssr_mode=False)
    config = uvicorn.Config(FaultMiddleware(app, faults, latency), log_level="warning",
                            lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"standin-{url}")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # uvicorn has no "started" callback; this is start-up, not a test
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"stand-in Space at {url} did not start")
        time.sleep(0.01)
    return StandinServer(server, thread, url, faults, blocks)
