"""The studio's sessions: one agent session per browser, kept across reloads, adopted when a
page spoke before it knew its browser's id, closed when the browser's last page goes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from spacesmith.agent.chat.studio import SessionPool
from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.settings import Settings


def test_one_session_per_browser(offline_settings: Settings, tmp_path: Path,
                                 open_agent: Callable[..., Harness]) -> None:
    opened: list[Path] = []

    def open_harness(ws: Path) -> Harness:
        opened.append(ws)
        return open_agent(offline_settings.with_(output=ws))

    pool = SessionPool(tmp_path / "studio", open_harness)
    first = pool.get("page-1", "page-1")  # the page spoke before its browser id arrived
    assert first.workspace == tmp_path / "studio"
    assert pool.get("browser-a", "page-1") is first  # the id arrives: same session
    assert pool.get("page-1", "page-1") is first
    assert pool.get("browser-a", "page-2") is first  # a reload of the same browser
    other = pool.get("browser-b", "page-3")  # another browser, at the same time
    assert other is not first and other.workspace == tmp_path / "studio-2"
    assert len(opened) == 2

    pool.release("page-1")  # the old page of the reload went: the browser still has one
    assert pool.get("browser-a", "page-2") is first and len(opened) == 2
    pool.release("page-2")
    assert "browser-a" not in pool.sessions
    again = pool.get("browser-c", "page-4")  # the first workspace is free again
    assert again.workspace == tmp_path / "studio" and len(opened) == 3
    pool.close()
    assert pool.sessions == {}
