"""The built gallery in headless Debian chromium: it renders, switches, orbits, stays quiet.

Every test opens its own page on a site built once per module and waits on the page's
``window.__gallery`` state, never on a timer.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from spacesmith.tools.site.gallery import load_gallery
from spacesmith.tools.site.preview import PreviewServer, serve
from spacesmith.tools.site.render import build_site
from tests.fixtures.site import BACKGROUND, write_gallery

pytestmark = pytest.mark.browser

BG = np.array([int(BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)])
HOSTILE_TITLE = '</script><script>window.__pwned = "title"</script> & "quotes"'
HOSTILE_NAMES = [
    '<script>window.__pwned = 1</script>',
    "\"double\" and 'single' quotes <b>bold</b>",
    "<img src=x onerror=\"window.__pwned = 3\">",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewServer]:
    root = tmp_path_factory.mktemp("browser")
    gallery = load_gallery(write_gallery(root / "gallery", 3))
    result = build_site(gallery, root / "site")
    assert not result.used_cdn
    with serve(result.out_dir) as server:
        yield server


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewServer]:
    root = tmp_path_factory.mktemp("hostile")
    path = write_gallery(root / "gallery", 3, names=HOSTILE_NAMES, title=HOSTILE_TITLE,
                         description='</script>"><script>window.__pwned = "d"</script>')
    result = build_site(load_gallery(path), root / "site")
    with serve(result.out_dir) as server:
        yield server


@dataclass
class Viewer:
    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate("() => ({...window.__gallery})"))

    def wait_ready(self, index: int) -> None:
        self.page.wait_for_function(
            "i => window.__gallery && window.__gallery.ready && window.__gallery.index === i",
            arg=index, timeout=30_000)

    def frames(self, n: int = 3) -> None:
        self.page.evaluate("n => new Promise(r => { const t = () => --n ? "
                           "requestAnimationFrame(t) : r(); requestAnimationFrame(t); })", n)

    def shot(self, path: Path | None = None) -> np.ndarray:
        self.frames()
        png = self.page.locator("#view").screenshot()
        if path is not None:
            path.write_bytes(png)
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def open_viewer(browser: Any, url: str, **context: Any) -> Iterator[Viewer]:
    ctx = browser.new_context(viewport=context.pop("viewport", {"width": 960, "height": 640}),
                              **context)
    page = ctx.new_page()
    viewer = Viewer(page)
    page.on("console", lambda m: viewer.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: viewer.errors.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (viewer.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    viewer.wait_ready(0)
    try:
        yield viewer
    finally:
        ctx.close()


@pytest.fixture
def viewer(browser: Any, site: PreviewServer) -> Iterator[Viewer]:
    yield from open_viewer(browser, site.url)


@pytest.fixture
def touch_viewer(browser: Any, site: PreviewServer) -> Iterator[Viewer]:
    yield from open_viewer(browser, site.url, viewport={"width": 390, "height": 760},
                           has_touch=True, is_mobile=True, device_scale_factor=1,
                           reduced_motion="reduce")


def swipe(page: Any, start: tuple[float, float], end: tuple[float, float], *,
          seconds: float) -> None:
    """A one-finger swipe through CDP touch events, stamped as a finger would stamp them.

    Software rendering makes each event slow to handle; the explicit timestamps keep the
    gesture as quick as the finger made it (real input is stamped by the hardware too).
    """
    cdp = page.context.new_cdp_session(page)
    t0 = time.time()
    steps = 4
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "timestamp": t0,
                                          "touchPoints": [{"x": start[0], "y": start[1]}]})
    for k in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * k / steps
        y = start[1] + (end[1] - start[1]) * k / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "timestamp": t0 + seconds * k / (steps + 1),
                                              "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "timestamp": t0 + seconds,
                                          "touchPoints": []})
    cdp.detach()


def foreground(img: np.ndarray) -> int:
    """Pixels that differ clearly from the gallery background."""
    return int((np.abs(img - BG).max(axis=2) > 24).sum())


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of pixels that differ clearly between two pictures."""
    return float((np.abs(a - b).max(axis=2) > 24).mean())


def test_first_splat_renders_and_drag_orbits(viewer: Viewer, artifacts_dir: Path) -> None:
    first = viewer.shot(artifacts_dir / "viewer-first.png")
    assert foreground(first) > 0.02 * first.shape[0] * first.shape[1]
    assert viewer.state()["title"] == "Monument 1: the tower"
    assert viewer.page.locator("#item-title").text_content() == "Monument 1: the tower"

    box = viewer.page.locator("#view").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    viewer.page.mouse.move(cx, cy)
    viewer.page.mouse.down()
    viewer.page.mouse.move(cx + 260, cy + 30, steps=12)
    viewer.page.mouse.up()
    rotated = viewer.shot(artifacts_dir / "viewer-orbit.png")
    assert changed(first, rotated) > 0.01
    assert viewer.state()["index"] == 0
    assert viewer.errors == []


def test_wheel_key_and_buttons_switch(viewer: Viewer, artifacts_dir: Path) -> None:
    box = viewer.page.locator("#view").bounding_box()
    viewer.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    steps = [
        ("wheel", lambda: viewer.page.mouse.wheel(0, 120), 1, "Monument 2: the arch"),
        ("key", lambda: viewer.page.keyboard.press("ArrowRight"), 2, "Monument 3: the dome"),
        ("button", lambda: viewer.page.locator("#next").click(), 0, "Monument 1: the tower"),
        ("key-back", lambda: viewer.page.keyboard.press("ArrowLeft"), 2, "Monument 3: the dome"),
    ]
    before = viewer.shot()
    for how, act, index, title in steps:
        act()
        viewer.wait_ready(index)
        after = viewer.shot(artifacts_dir / f"viewer-switch-{how}.png")
        assert changed(before, after) > 0.01, how
        assert viewer.state()["title"] == title, how
        assert viewer.page.locator("#item-title").text_content() == title, how
        assert viewer.page.locator("#counter").text_content() == f"{index + 1} / 3", how
        before = after
    assert viewer.state()["switches"] == 4
    assert viewer.errors == []


def test_swipe_switches_on_a_phone_with_reduced_motion(touch_viewer: Viewer,
                                                       artifacts_dir: Path) -> None:
    page = touch_viewer.page
    before = touch_viewer.shot(artifacts_dir / "viewer-phone-first.png")
    assert foreground(before) > 0.01 * before.shape[0] * before.shape[1]
    swipe(page, (320, 380), (100, 386), seconds=0.2)
    touch_viewer.wait_ready(1)
    after = touch_viewer.shot(artifacts_dir / "viewer-phone-swiped.png")
    assert changed(before, after) > 0.01
    assert touch_viewer.state()["title"] == "Monument 2: the arch"
    # the overlay fits the phone screen
    caption = page.locator(".caption").bounding_box()
    assert caption["x"] >= 0 and caption["x"] + caption["width"] <= 390
    assert touch_viewer.errors == []


def test_hostile_titles_show_as_text(browser: Any, hostile_site: PreviewServer,
                                     artifacts_dir: Path) -> None:
    for viewer in open_viewer(browser, hostile_site.url):
        page = viewer.page
        viewer.shot(artifacts_dir / "viewer-hostile-titles.png")
        assert page.locator("#item-title").text_content() == HOSTILE_NAMES[0]
        assert page.locator("#gallery-title").text_content() == HOSTILE_TITLE
        assert page.title() == f"{HOSTILE_NAMES[0]} · {HOSTILE_TITLE}"
        page.keyboard.press("ArrowRight")
        viewer.wait_ready(1)
        assert page.locator("#item-title").text_content() == HOSTILE_NAMES[1]
        page.keyboard.press("ArrowRight")
        viewer.wait_ready(2)
        assert page.locator("#item-title").text_content() == HOSTILE_NAMES[2]
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("script").count() == 3  # import map, gallery data, viewer
        assert page.locator("img, b").count() == 0
        assert viewer.dialogs == []
        assert viewer.errors == []
