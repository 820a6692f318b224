"""A local static server for a built site, with the headers a static Space sends.

It binds to 127.0.0.1 only, serves the folder read-only, answers with explicit content
types for the splat formats and JavaScript modules, and adds the ``custom_headers`` of the
Space card (COOP/COEP/CORP), so a page that works here works on the Hub.
"""

from __future__ import annotations

import functools
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from spacesmith.tools.errors import SiteError
from spacesmith.tools.splat import SPLAT_SUFFIXES

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".wasm": "application/wasm",
    **dict.fromkeys(SPLAT_SUFFIXES, "application/octet-stream"),
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
_ALLOWED_CUSTOM = {"cross-origin-embedder-policy", "cross-origin-opener-policy",
                   "cross-origin-resource-policy"}


def space_headers(site_dir: Path) -> dict[str, str]:
    """The ``custom_headers`` a Space would send, read from the card's front matter."""
    card = site_dir / "README.md"
    if not card.is_file():
        return {}
    text = card.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---", text, re.S)
    if not match:
        return {}
    headers: dict[str, str] = {}
    inside = False
    for line in match.group(1).splitlines():
        if line.startswith("custom_headers:"):
            inside = True
            continue
        if inside and line.startswith((" ", "\t")) and ":" in line:
            key, value = line.strip().split(":", 1)
            if key.strip().lower() in _ALLOWED_CUSTOM:
                headers[key.strip().lower()] = value.strip().strip("\"'")
        elif inside:
            inside = False
    return headers


class _Handler(SimpleHTTPRequestHandler):
    extra_headers: dict[str, str] = {}  # noqa: RUF012 - set per server via a subclass

    def end_headers(self) -> None:
        for key, value in self.extra_headers.items():
            self.send_header(key, value)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def guess_type(self, path: str | Any) -> str:
        suffix = Path(str(path)).suffix.lower()
        return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(str(path))[0] or \
            "application/octet-stream"

    def do_PUT(self) -> None:  # read-only: refuse writes explicitly
        self.send_error(405)

    do_POST = do_DELETE = do_PUT

    def log_message(self, format: str, *args: Any) -> None:  # quiet; the CLI prints the URL
        pass


@dataclass
class PreviewServer:
    """A running preview server: ``url`` to open, ``close()`` to stop (also a context manager)."""

    url: str
    directory: Path
    _server: ThreadingHTTPServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> PreviewServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the CLI)."""
        self._thread.join()


def serve(directory: str | Path, port: int = 0, *, host: str = "127.0.0.1") -> PreviewServer:
    """Serve a built site in a background thread.

    Args:
        directory: the site folder (it must contain ``index.html``).
        port: the TCP port; 0 picks a free one.
        host: the address to bind; loopback by default, so nothing outside the machine sees it.

    Returns:
        The running server.

    Raises:
        SiteError: the folder is not a site, or the port cannot be bound.
    """
    root = Path(directory).resolve()
    if not (root / "index.html").is_file():
        raise SiteError(f"{root} has no index.html", hint="build it with 'spacesmith site build'")
    handler = type("SiteHandler", (_Handler,), {"extra_headers": space_headers(root)})
    bound = functools.partial(handler, directory=str(root))
    try:
        server = ThreadingHTTPServer((host, port), bound)
    except OSError as exc:
        raise SiteError(f"cannot listen on {host}:{port}: {exc.strerror}",
                        hint="pick another --port") from exc
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="spacesmith-preview", daemon=True)
    thread.start()
    actual_port = server.server_address[1]
    return PreviewServer(url=f"http://{host}:{actual_port}/", directory=root,
                         _server=server, _thread=thread)
