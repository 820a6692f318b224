"""``spacesmith studio --offline`` in headless Chromium, driven as a person would: type the
goal into the chat box and press Enter, see the gallery drawn beside the conversation; type
"zoom out", see the view change (the gallery frame reloads with the camera farther away);
reload the page, find the same session."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

SPACESMITH = str(Path(sys.executable).with_name("spacesmith"))
GOAL = "build a gallery of Panthéon and Arc de Triomphe"
READY = "() => window.__gallery && window.__gallery.ready"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The real CLI: ``spacesmith studio --offline --port P -o DIR``; its URL once it listens."""
    port = free_port()
    ws = tmp_path / "studio"
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([SPACESMITH, "studio", "--offline", "--model", "offline",
                             "--port", str(port), "-o", str(ws)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # ends when the process does: bounded by its exit
            seen.append(line)
            if line.startswith("studio: "):
                break
        else:
            pytest.fail("the studio did not start: " + "".join(seen)[-2000:])
        yield f"http://127.0.0.1:{port}/", ws
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def foreground(png: bytes) -> int:
    """Pixels clearly brighter than the gallery's black background."""
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)
    return int((img.max(axis=2) > 40).sum())


def type_message(page: Any, text: str) -> None:
    box = page.locator("#chat-input textarea")
    box.click()
    box.type(text)
    box.press("Enter")


def test_type_a_goal_see_the_gallery_then_zoom_out(browser: Any, studio: tuple[str, Path],
                                                   artifacts_dir: Path) -> None:
    url, ws = studio
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        page = context.new_page()
        page.goto(url)
        page.locator("#gallery-empty").wait_for(timeout=60_000)
        type_message(page, GOAL)
        frame_el = page.locator("#gallery-frame")
        frame_el.wait_for(timeout=180_000)
        frame = frame_el.element_handle().content_frame()
        frame.wait_for_function(READY, timeout=60_000)
        frame.wait_for_function("() => window.__gallery.firstDrawMs !== null", timeout=60_000)
        version = frame.evaluate("window.__spacesmithLive.version")
        first = frame.locator("#view").screenshot()
        page.screenshot(path=str(artifacts_dir / "studio-built.png"))
        assert foreground(first) > 2000, "nothing drawn in the gallery frame"
        assert page.locator("#conversation").get_by_text("Panthéon").count() > 0

        type_message(page, "zoom out")
        frame.wait_for_function("v => window.__spacesmithLive && "
                                "window.__spacesmithLive.version !== v && "
                                "window.__gallery && window.__gallery.ready",
                                arg=version, timeout=180_000)
        frame.wait_for_function("() => window.__gallery.firstDrawMs !== null", timeout=60_000)
        second = frame.locator("#view").screenshot()
        page.screenshot(path=str(artifacts_dir / "studio-zoomed-out.png"))
        assert foreground(second) < 0.85 * foreground(first), "the view did not zoom out"
        assert (ws / "session.json").is_file()

        page.reload()  # the same browser finds the same session: its turns and its gallery
        page.locator("#gallery-frame").wait_for(timeout=60_000)
        page.locator("#conversation").get_by_text("zoom out").first.wait_for(timeout=30_000)
        assert not (ws.parent / f"{ws.name}-2").exists()
    finally:
        context.close()
