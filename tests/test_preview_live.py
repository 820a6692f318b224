"""The live preview: the site served with a reload script, a version stream, and in Chromium
a page that reloads itself after a chat turn, on the item it showed."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacesmith.agent.chat.live import LivePreview
from spacesmith.agent.chat.session import ChatSession
from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.site.preview import LIVE_PATH, serve


def read_versions(url: str, count: int, *, timeout: float = 10.0) -> Iterator[str]:
    """The first ``count`` version events of the live stream."""
    seen = 0
    with httpx.stream("GET", url + LIVE_PATH.lstrip("/"), timeout=timeout) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                yield line[len("data: "):]
                seen += 1
                if seen == count:
                    return


def test_live_server_injects_script_and_streams_versions(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body><p>one</p></body></html>", "utf-8")
    (site / "viewer.js").write_text("// js", "utf-8")
    with serve(site, live=True, poll_s=0.05) as server:
        page = httpx.get(server.url, timeout=5).text
        assert "/__spacesmith/live" in page and page.index("<script>") < page.index("</body>")
        version = re.search(r'version: "([0-9a-f]+)"', page)
        assert version is not None
        assert (site / "index.html").read_text("utf-8") == "<html><body><p>one</p></body></html>"
        assert httpx.get(server.url + "viewer.js", timeout=5).text == "// js"
        stream = read_versions(server.url, 2)
        assert next(stream) == version.group(1)
        (site / "index.html").write_text("<html><body><p>two</p></body></html>", "utf-8")
        server.notify()
        second = next(stream)
        assert second != version.group(1)
        assert f'version: "{second}"' in httpx.get(server.url + "index.html", timeout=5).text
    with serve(site) as plain:  # not live: the file as it is
        assert "__spacesmith" not in httpx.get(plain.url, timeout=5).text


def camera_distance(data: dict[str, Any], index: int) -> float:
    camera = data["items"][index]["camera"]
    return math.dist(camera["position"], camera["target"])


@pytest.mark.browser
def test_preview_reloads_after_a_turn_on_the_same_item(
        browser: Any, offline_settings: Settings, open_agent: Callable[..., Harness],
        artifacts_dir: Path) -> None:
    chat = ChatSession.open(open_agent(offline_settings))
    live = LivePreview(chat.harness.workspace.site_dir)
    assert live.refresh() is None  # nothing built: no server yet
    assert chat.send("build a Paris monuments gallery").success
    url = live.refresh()
    assert url is not None and url.startswith("http://127.0.0.1:")
    context = browser.new_context(viewport={"width": 800, "height": 560})
    try:
        page = context.new_page()
        page.goto(url)
        ready = "i => window.__gallery && window.__gallery.ready && window.__gallery.index === i"
        page.wait_for_function(ready, arg=0, timeout=60_000)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(ready, arg=1, timeout=60_000)
        assert page.evaluate("location.hash") == "#item=2"
        before = json.loads(page.locator("#gallery-data").text_content() or "{}")
        version = page.evaluate("window.__spacesmithLive.version")

        with page.expect_event("load", timeout=60_000):
            assert chat.send("zoom out").success
            live.refresh()
        page.wait_for_function(ready, arg=1, timeout=60_000)  # the same item, reloaded
        after = json.loads(page.locator("#gallery-data").text_content() or "{}")
        assert page.evaluate("window.__spacesmithLive.version") != version
        assert camera_distance(after, 1) > camera_distance(before, 1) * 1.2
        page.screenshot(path=str(artifacts_dir / "preview-live-after-zoom.png"))
    finally:
        context.close()
        live.close()
