"""Screenshots of a built site in headless Chromium (for look_at and the chat's /preview).

The site is agent-written, so the browser may reach the local preview server and nothing
else (:func:`confined_args`): every request goes to a proxy that does not exist except those
for the preview's own ``127.0.0.1:PORT``, host names resolve to nothing, Chromium's own
background traffic (component updates, safe browsing, metrics) is off, and Playwright aborts
any request for another origin as a second layer.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from spacesmith.tools.errors import SiteError

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--enable-unsafe-swiftshader",
                 "--use-angle=swiftshader", "--disable-background-networking", "--mute-audio"]
QUIET_ARGS = ["--disable-component-update", "--disable-sync", "--no-pings",
              "--disable-domain-reliability", "--disable-client-side-phishing-detection",
              "--disable-default-apps", "--no-first-run", "--metrics-recording-only",
              "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
              "--webrtc-ip-handling-policy=disable_non_proxied_udp",
              "--force-webrtc-ip-handling-policy"]
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, nothing is forwarded


def confined_args(origin: str) -> list[str]:
    """Chromium flags that leave the browser only ``origin`` (``http://127.0.0.1:PORT``)."""
    hostport = origin.split("://", 1)[-1].rstrip("/")
    return [*CHROMIUM_ARGS, *QUIET_ARGS, f"--proxy-server={DEAD_PROXY}",
            f"--proxy-bypass-list=<-loopback>;{hostport}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def find_chromium() -> str | None:
    """The system Chromium's path, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot_site(site_dir: Path, out: Path, *, wait_ms: int = 30_000) -> Path:
    """Serve ``site_dir`` locally, open it headless, wait for the first splat, save a PNG.

    Args:
        site_dir: a built site folder.
        out: where to write the PNG.
        wait_ms: how long to wait for the viewer to report that a splat is shown.

    Returns:
        ``out``.

    Raises:
        SiteError: no Chromium / Playwright, or the page did not load.
    """
    chromium = find_chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise SiteError("Playwright is not installed", hint="pip install playwright") from exc
    if chromium is None:
        raise SiteError("no Chromium found for the screenshot", hint="apt-get install chromium")
    # Playwright's sync API refuses a thread that already runs an event loop (a caller's,
    # or another sync_playwright): the browser work gets a thread of its own.
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _shoot(site_dir, out, chromium, wait_ms, sync_playwright, PlaywrightError)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=work, name="spacesmith-screenshot")
    worker.start()
    worker.join()
    if errors:
        if isinstance(errors[0], SiteError):
            raise errors[0]
        raise SiteError(f"the screenshot failed: {errors[0]}") from errors[0]
    return out


def _shoot(site_dir: Path, out: Path, chromium: str, wait_ms: int, sync_playwright: Any,
           playwright_error: type[Exception]) -> None:
    from spacesmith.tools.site.preview import serve

    out.parent.mkdir(parents=True, exist_ok=True)
    with serve(site_dir) as server, sync_playwright() as p:
        origin = server.url.rstrip("/")
        browser = p.chromium.launch(executable_path=chromium, args=confined_args(origin))
        try:
            page = browser.new_page(viewport={"width": 960, "height": 600})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(origin + "/") else route.abort())
            page.goto(server.url, wait_until="load")
            try:
                page.wait_for_function("() => (window.__gallery && window.__gallery.ready) || "
                                       "!!(window.__gallery && window.__gallery.error)",
                                       timeout=wait_ms)
                page.wait_for_timeout(1500)
            except playwright_error:
                pass  # take the picture anyway: it shows what went wrong
            page.screenshot(path=str(out))
        finally:
            browser.close()
