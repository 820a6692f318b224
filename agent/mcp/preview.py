"""The MCP server's preview: the site on a loopback URL that reloads itself after a rebuild.

Like :func:`spacesmith.tools.site.preview.serve` (same content types and Space headers,
read-only, 127.0.0.1 only), plus two routes of its own: ``/__spacesmith/version`` answers
the build stamp of ``index.html``, and ``/__spacesmith/reload.js`` polls it and reloads
the page when it changes. The served ``index.html`` gets that script; the files on disk
do not (the deployed site never carries it). ``build_site`` swaps a new folder in at the
same path, so the server always serves the latest build.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from spacesmith.tools.errors import SiteError
from spacesmith.tools.site.preview import CONTENT_TYPES, PreviewServer, space_headers

VERSION_PATH = "/__spacesmith/version"
SCRIPT_PATH = "/__spacesmith/reload.js"
POLL_MS = 1000
RELOAD_JS = f"""// spacesmith preview: reload when the site is rebuilt (not part of the site)
let stamp = null;
async function poll() {{
  try {{
    const answer = await fetch("{VERSION_PATH}", {{cache: "no-store"}});
    const now = (await answer.json()).stamp;
    if (stamp !== null && now !== stamp) {{ location.reload(); return; }}
    stamp = now;
  }} catch (error) {{ /* the server is restarting or gone: try again */ }}
  setTimeout(poll, {POLL_MS});
}}
poll();
"""
TAG = f'<script src="{SCRIPT_PATH}"></script>'


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

    def do_GET(self) -> None:
        route = urlsplit(self.path).path
        index = Path(self.directory) / "index.html"
        if route == VERSION_PATH:
            stamp = index.stat().st_mtime_ns if index.is_file() else 0
            self._send(json.dumps({"stamp": str(stamp)}).encode(), "application/json")
        elif route == SCRIPT_PATH:
            self._send(RELOAD_JS.encode(), CONTENT_TYPES[".js"])
        elif route in ("/", "/index.html") and index.is_file():
            page = index.read_text("utf-8")
            at = page.rfind("</body>")
            page = page[:at] + TAG + page[at:] if at >= 0 else page + TAG
            self._send(page.encode(), CONTENT_TYPES[".html"])
        else:
            super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:  # read-only
        self.send_error(405)

    do_POST = do_DELETE = do_PUT

    def log_message(self, format: str, *args: Any) -> None:  # stdout is the MCP wire
        pass


def serve_reloading(directory: Path, *, host: str = "127.0.0.1") -> PreviewServer:
    """Serve a built site on a free loopback port; its page reloads after each rebuild.

    Raises:
        SiteError: the folder has no index.html, or no port can be bound.
    """
    root = directory.resolve()
    if not (root / "index.html").is_file():
        raise SiteError(f"{root} has no index.html", hint="call build_site first")
    handler = type("ReloadingSiteHandler", (_Handler,),
                   {"extra_headers": space_headers(root)})
    try:
        server = ThreadingHTTPServer((host, 0), functools.partial(handler, directory=str(root)))
    except OSError as exc:
        raise SiteError(f"cannot listen on {host}: {exc.strerror}") from exc
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="spacesmith-mcp-preview",
                              daemon=True)
    thread.start()
    return PreviewServer(url=f"http://{host}:{server.server_address[1]}/", directory=root,
                         _server=server, _thread=thread)
