"""A local static server for a built site, with the headers a static Space sends.

It binds to 127.0.0.1 only, serves the folder read-only, answers with explicit content
types for the splat formats and JavaScript modules, and adds the ``custom_headers`` of the
Space card (COOP/COEP/CORP), so a page that works here works on the Hub.

With ``live=True`` (the chat and the studio) the page reloads itself when the site changes:
the server adds a small script to ``index.html`` that listens to ``/__spacesmith/live``, a
server-sent event stream of the site's version (a hash of ``index.html``, which holds the
gallery data). The viewer keeps the item on screen through the reload (``#item=N``).
The script exists only in what this server sends; the files on disk are never changed.
"""

from __future__ import annotations

import functools
import hashlib
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
LIVE_PATH = "/__spacesmith/live"
HEARTBEAT_S = 15.0
# Reload when the version the stream announces differs from the one this page was sent
# with; window.__spacesmithLive says which version is on screen (tests, embedders).
LIVE_SCRIPT = """<script>
(() => {
  const live = { version: "%s", connected: false };
  window.__spacesmithLive = live;
  if (!window.EventSource) return;
  const events = new EventSource("%s");
  events.onopen = () => { live.connected = true; };
  events.addEventListener("version", (e) => {
    if (e.data !== live.version) { events.close(); location.reload(); }
  });
})();
</script>
"""
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


class LiveState:
    """The version of a served site, and a way to wake the event streams when it changes.

    Args:
        directory: the site folder.
        poll_s: how often an open stream looks at ``index.html`` (a build replaces it).
    """

    def __init__(self, directory: Path, poll_s: float = 0.5) -> None:
        self.directory = directory
        self.poll_s = poll_s
        self._changed = threading.Condition()
        self._stopped = False
        self._seen: tuple[int, int, int] | None = None
        self._version = "none"

    @property
    def stopped(self) -> bool:
        return self._stopped

    def version(self) -> str:
        """A short hash of ``index.html`` ("none" while there is none); rehashed on change."""
        try:
            stat = (self.directory / "index.html").stat()
        except OSError:
            return "none"
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != self._seen:
            try:
                data = (self.directory / "index.html").read_bytes()
            except OSError:
                return "none"
            self._version = hashlib.sha256(data).hexdigest()[:12]
            self._seen = key
        return self._version

    def notify(self) -> None:
        """Tell the open streams to look now (the chat calls it after a turn)."""
        with self._changed:
            self._changed.notify_all()

    def wait(self, seconds: float) -> None:
        """Wait up to ``seconds`` for :meth:`notify` or :meth:`stop`."""
        with self._changed:
            if not self._stopped:
                self._changed.wait(seconds)

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


class _Handler(SimpleHTTPRequestHandler):
    extra_headers: dict[str, str] = {}  # noqa: RUF012 - set per server via a subclass
    live: LiveState | None = None

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
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if self.live is not None and path == LIVE_PATH:
            self._stream(self.live)
        elif self.live is not None and path in ("/", "/index.html"):
            self._index(self.live)
        else:
            super().do_GET()

    def _index(self, live: LiveState) -> None:
        """index.html with the reload script (the file on disk stays as built)."""
        try:
            page = (live.directory / "index.html").read_text("utf-8")
        except OSError:
            self.send_error(404, "no site yet")
            return
        version = hashlib.sha256(page.encode("utf-8")).hexdigest()[:12]
        script = LIVE_SCRIPT % (version, LIVE_PATH)
        at = page.rfind("</body>")
        body = (page[:at] + script + page[at:] if at >= 0 else page + script).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, live: LiveState) -> None:
        """The site's version as server-sent events, until the client leaves or we stop."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        sent: str | None = None
        quiet = 0.0
        try:
            while not live.stopped:
                version = live.version()
                if version != sent:
                    self.wfile.write(f"event: version\ndata: {version}\n\n".encode())
                    sent, quiet = version, 0.0
                elif quiet >= HEARTBEAT_S:  # a write is how a closed client is noticed
                    self.wfile.write(b": keep-alive\n\n")
                    quiet = 0.0
                self.wfile.flush()
                live.wait(live.poll_s)
                quiet += live.poll_s
        except (BrokenPipeError, ConnectionResetError):
            return
        self.close_connection = True

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
    live: LiveState | None = None

    def notify(self) -> None:
        """Live servers: tell open pages to check the site's version now."""
        if self.live is not None:
            self.live.notify()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
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


def serve(directory: str | Path, port: int = 0, *, host: str = "127.0.0.1",
          live: bool = False, poll_s: float = 0.5) -> PreviewServer:
    """Serve a built site in a background thread.

    Args:
        directory: the site folder (it must contain ``index.html``).
        port: the TCP port; 0 picks a free one.
        host: the address to bind; loopback by default, so nothing outside the machine sees it.
        live: pages reload themselves when the site changes (see the module docstring).
        poll_s: live servers: how often open streams look at ``index.html``.

    Returns:
        The running server.

    Raises:
        SiteError: the folder is not a site, or the port cannot be bound.
    """
    root = Path(directory).resolve()
    if not (root / "index.html").is_file():
        raise SiteError(f"{root} has no index.html", hint="build it with 'spacesmith site build'")
    state = LiveState(root, poll_s) if live else None
    handler = type("SiteHandler", (_Handler,), {"extra_headers": space_headers(root),
                                                 "live": state})
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
                         _server=server, _thread=thread, live=state)
