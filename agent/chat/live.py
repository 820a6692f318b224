"""The live view of a chat: the workspace's site served on 127.0.0.1, reloading itself.

It starts with the first built site (or at once when a resumed session has one) and after
every turn tells the open pages to check the site's version (``tools/site/preview.py``,
``live=True``). No browser automation is involved: a person opens the URL.
"""

from __future__ import annotations

import threading
from pathlib import Path

from spacesmith.tools.errors import SiteError
from spacesmith.tools.site.preview import PreviewServer, serve


class LivePreview:
    """A live preview server for one site folder, started when there is a site.

    Args:
        site_dir: the workspace's ``site/`` folder.
        port: the port to bind (0: any free port).
    """

    def __init__(self, site_dir: Path, port: int = 0) -> None:
        self.site_dir = site_dir
        self.port = port
        self.error: str | None = None
        self._server: PreviewServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str | None:
        """The page's URL, or None before the first build."""
        return self._server.url if self._server is not None else None

    def refresh(self) -> str | None:
        """Start serving once a site exists, or tell open pages to reload; the URL or None.

        A port that cannot be bound is remembered in ``error`` (one line) and not retried.
        """
        with self._lock:
            if self._server is None:
                if self.error is not None or not (self.site_dir / "index.html").is_file():
                    return None
                try:
                    self._server = serve(self.site_dir, self.port, live=True)
                except SiteError as exc:
                    self.error = str(exc)
                    return None
            else:
                self._server.notify()
            return self._server.url

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.close()
                self._server = None
