"""A scriptable Gradio-like HTTP server on 127.0.0.1 that records every request.

Routes map a path to ``(status, headers, body)`` or to a callable of the handler returning
that. Each server is its own origin (its own port), so two of them stand for a Space and
a foreign host. No gradio import: starts in milliseconds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], bytes]
Route = Answer | Callable[["Handler"], Answer]

INFO = {"named_endpoints": {"/generate": {
    "parameters": [{"label": "Prompt", "parameter_name": "prompt", "parameter_has_default": False,
                    "type": {"type": "string"}, "python_type": {"type": "str"},
                    "component": "Textbox"}],
    "returns": [{"label": "File", "type": {"type": "object"},
                 "python_type": {"type": "filepath"}, "component": "File"}]}},
    "unnamed_endpoints": {}}


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None
    headers: dict[str, str]


@dataclass
class FakeSpace:
    url: str
    host: str
    routes: dict[str, Route]
    requests: list[Request] = field(default_factory=list)

    def auth_seen(self) -> list[str | None]:
        return [r.authorization for r in self.requests]

    def json_route(self, path: str, body: Any, status: int = 200) -> None:
        self.routes[path] = (status, {"Content-Type": "application/json"},
                             json.dumps(body).encode())

    def text_route(self, path: str, body: str | bytes, status: int = 200,
                   content_type: str = "text/plain") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type}, data)

    def gradio(self, outputs: list[Any], *, agents_md: str | None = None) -> None:
        """Serve /info, the v2 call route and a result stream answering ``outputs``."""
        if agents_md is not None:
            self.text_route("/agents.md", agents_md)
        self.json_route("/gradio_api/info", INFO)
        self.json_route("/gradio_api/call/v2/generate", {"event_id": "ev1"})
        stream = f"event: complete\ndata: {json.dumps(outputs)}\n\n"
        self.text_route("/gradio_api/call/generate/ev1", stream, content_type="text/event-stream")


class Handler(BaseHTTPRequestHandler):
    space: FakeSpace

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.space.requests.append(Request(self.command, self.path,
                                           self.headers.get("Authorization"),
                                           {k.lower(): v for k, v in self.headers.items()}))
        path = self.path.split("?", 1)[0]
        route = self.space.routes.get(path)
        if route is None:  # "prefix*" routes answer every path that starts with the prefix
            route = next((r for key, r in self.space.routes.items()
                          if key.endswith("*") and path.startswith(key[:-1])), None)
        if route is None:
            status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
        else:
            status, headers, body = route(self) if callable(route) else route
        self.send_response(status)
        headers = {"Content-Length": str(len(body)), **headers}
        for key, value in headers.items():
            if value:  # an empty value leaves the header out
                self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_space() -> Iterator[FakeSpace]:
    """Start a fake Space on a free loopback port; stop it at the end."""
    space = FakeSpace(url="", host="", routes={})
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 type("BoundHandler", (Handler,), {"space": space}))
    port = server.server_address[1]
    space.url, space.host = f"http://127.0.0.1:{port}", f"127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield space
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
