"""The preview browser reaches only the local preview server: an agent-written page that
names another 127.0.0.1 port (fetch, image, script, WebSocket, beacon, iframe, navigation)
gets nothing from it, while the same page in an unconfined Chromium does reach it (the
control, so the test can fail)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spacesmith.agent.runs.screenshot import CHROMIUM_ARGS, find_chromium, screenshot_site
from tests.corpus.fake_space import FakeSpace, fake_space

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="needs chromium")


@pytest.fixture
def other() -> Iterator[FakeSpace]:
    with fake_space() as space:
        space.routes["/*"] = (200, {"Content-Type": "text/plain",
                                    "Access-Control-Allow-Origin": "*"}, b"other")
        yield space


def _hostile_site(tmp_path: Path, target: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f"""<!doctype html><html><body>
<img src="{target}/img.png"><script src="{target}/script.js"></script>
<iframe src="{target}/frame"></iframe>
<link rel="prefetch" href="{target}/prefetch">
<script>
fetch("{target}/fetch").catch(() => {{}});
try {{ new WebSocket("{target.replace('http', 'ws')}/ws"); }} catch (e) {{}}
navigator.sendBeacon("{target}/beacon", "x");
fetch("http://localhost:{target.rsplit(':', 1)[1]}/by-name").catch(() => {{}});
setTimeout(() => {{ location.href = "{target}/navigate"; }}, 300);
</script></body></html>""", encoding="utf-8")
    return site


def test_a_page_cannot_reach_another_local_port(tmp_path: Path, other: FakeSpace) -> None:
    site = _hostile_site(tmp_path, other.url)
    out = screenshot_site(site, tmp_path / "shot.png", wait_ms=2000)
    assert out.is_file() and out.stat().st_size > 0
    assert other.requests == [], [r.path for r in other.requests]


def test_control_the_same_page_unconfined_reaches_it(tmp_path: Path,
                                                     other: FakeSpace) -> None:
    from playwright.sync_api import sync_playwright

    from spacesmith.tools.site.preview import serve

    site = _hostile_site(tmp_path, other.url)
    chromium = find_chromium()

    def visit(url: str) -> None:  # in a thread of its own: no asyncio loop another test left
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url, wait_until="load")
                page.wait_for_timeout(1000)
            finally:
                browser.close()

    from concurrent.futures import ThreadPoolExecutor

    with serve(site) as server, ThreadPoolExecutor(1) as pool:
        pool.submit(visit, server.url).result(timeout=120)
    assert {"/fetch", "/img.png"} & {r.path for r in other.requests}
