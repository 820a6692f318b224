"""Bounds found by attacking the public CLI: what write_file and look_at may hold, and text
from agent code that cannot reach a terminal, a report or a model request as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from spacesmith.agent.codeagent import local_tools as lt
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import WorkspaceError
from spacesmith.tools.redact import plain, scrub


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "run")


@pytest.mark.parametrize("path", ["site/index.html", "./site/x.js", "cache/k/call.json",
                                  "splats/web/a.spz", "gallery.json", "journal.jsonl",
                                  "report.md", "session.json", "notes/../site/index.html"])
def test_write_file_leaves_what_the_tools_own_alone(workspace: Workspace, path: str) -> None:
    tool = lt.WriteFileTool(workspace)
    with pytest.raises(WorkspaceError, match="the tools own it"):
        tool.forward(path, "<html>not a gallery</html>")
    assert not (workspace.root / "site" / "index.html").exists()


def test_write_file_through_a_symlink_into_the_site_is_refused(workspace: Workspace) -> None:
    (workspace.root / "site").mkdir(parents=True, exist_ok=True)
    (workspace.root / "notes").symlink_to(workspace.root / "site")
    with pytest.raises(WorkspaceError):
        lt.WriteFileTool(workspace).forward("notes/index.html", "x")


def test_write_file_is_bounded_per_file_and_per_run(workspace: Workspace) -> None:
    tool = lt.WriteFileTool(workspace)
    assert tool.forward("notes/a.txt", "hello").startswith("wrote notes/a.txt")
    with pytest.raises(WorkspaceError, match="capped"):
        tool.forward("big.txt", "x" * (lt.MAX_WRITE_BYTES + 1))
    chunk = "y" * lt.MAX_WRITE_BYTES
    with pytest.raises(WorkspaceError, match="capped"):
        for i in range(lt.MAX_WRITTEN_BYTES // lt.MAX_WRITE_BYTES + 1):
            tool.forward(f"flood{i}.txt", chunk)
    written = sum(p.stat().st_size for p in workspace.root.glob("flood*.txt"))
    assert written <= lt.MAX_WRITTEN_BYTES


def test_look_at_keeps_only_the_latest_pictures(workspace: Workspace) -> None:
    Image.new("RGB", (32, 32), (200, 10, 10)).save(workspace.root / "p.png")
    pending: list[object] = []
    tool = lt.LookAtTool(workspace, pending)
    for _ in range(50):
        tool.forward("p.png")
    assert len(pending) == lt.MAX_LOOKS


def test_text_from_agent_code_is_plain() -> None:
    hostile = "a\x1b[2J\x1b]0;PWNED\x07\x9b6n\u202eLIVE\ud800 end\n\tok"
    shown = plain(hostile)
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\ud800"):
        assert bad not in shown
    assert shown.endswith(" end\n\tok") and "\\x1b[2J" in shown
    shown.encode("utf-8")  # a lone surrogate would make this raise
    assert scrub("done \udcff").encode("utf-8") == "done \ufffd".encode()
