"""End to end: `spacesmith build` with the offline planner against the real stand-in Spaces,
real splat conversion and the real site build; checked from the files and in a browser."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spacesmith.agent.cli.main import main
from spacesmith.tools.site.preview import serve
from spacesmith.tools.splat.io import read_splat_file
from tests.fixtures.agent import assert_upright_and_framed, web_splats

GOAL = "build a gallery of the Panthéon and the Arc de Triomphe"


@dataclass(frozen=True)
class Built:
    workspace: Path
    code: int
    out: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One offline build through the CLI (the stand-ins start by themselves)."""
    workspace = tmp_path_factory.mktemp("build") / "paris"
    capture = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(capture):
        code = main(["build", GOAL, "-o", str(workspace), "--offline", "--model", "offline"])
    return Built(workspace, code, capture.getvalue())


def test_build_succeeds_and_prints_where_things_are(built: Built) -> None:
    assert built.code == 0, built.out
    assert f"site: {built.workspace / 'site'}" in built.out
    assert "preview: spacesmith site preview" in built.out
    assert "contact sheet:" in built.out
    assert (built.workspace / "contact-sheet.png").is_file()
    assert (built.workspace / "site" / "index.html").is_file()


def test_web_splats_are_upright_and_framed(built: Built) -> None:
    splats = web_splats(built.workspace / "site")
    assert list(splats) == ["Panthéon", "Arc de Triomphe"]
    report = json.loads((built.workspace / "report.json").read_text())
    raw = [built.workspace / f for f in _raw_splats(report)]
    assert len(raw) == 2
    for path, raw_path in zip(splats.values(), raw, strict=True):
        assert_upright_and_framed(path)
        _assert_flipped(read_splat_file(raw_path).positions[:, 1],
                        read_splat_file(path).positions[:, 1])


def _raw_splats(report: dict[str, object]) -> list[str]:
    files: list[str] = []
    for step in report["steps"]:  # type: ignore[attr-defined]
        for line in str(step.get("observations", "")).splitlines():
            if "splat_standin_generate" in line:
                files += [f for f in line.split("'") if f.endswith(".ply")]
    return files


def _profile(y: np.ndarray) -> np.ndarray:
    """Where the mass sits along y: deciles of y normalised to [0, 1]."""
    low, high = np.percentile(y, 1), np.percentile(y, 99)
    return np.percentile((y - low) / (high - low), np.arange(10, 100, 10))


def _assert_flipped(raw_y: np.ndarray, web_y: np.ndarray) -> None:
    """The web splat's height profile matches the raw Y-down one turned over, not as it was."""
    web = _profile(web_y.astype(np.float64))
    turned = _profile(-raw_y.astype(np.float64))
    same = _profile(raw_y.astype(np.float64))
    assert np.abs(web - turned).mean() < np.abs(web - same).mean()


def test_report_lists_calls_and_never_a_token(built: Built) -> None:
    report = json.loads((built.workspace / "report.json").read_text())
    assert report["success"] is True
    assert report["space_calls"]["made"] == 4  # two images, two splats
    assert report["model"].startswith("offline planner")
    assert (built.workspace / "report.md").read_text().startswith("# spacesmith run report")
    assert "hf_" not in (built.workspace / "report.md").read_text()


def test_rebuild_reuses_every_space_call(built: Built) -> None:
    code = main(["build", GOAL, "-o", str(built.workspace), "--offline", "--model", "offline"])
    assert code == 0
    report = json.loads((built.workspace / "report.json").read_text())
    assert report["space_calls"]["made"] == 0
    assert report["space_calls"]["cached"] == 4


@pytest.mark.browser
def test_site_renders_in_the_browser(built: Built, browser: object,
                                     artifacts_dir: Path) -> None:
    with serve(built.workspace / "site") as server:
        page = browser.new_page(viewport={"width": 800, "height": 600})  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url)
        page.wait_for_function("() => window.__gallery && window.__gallery.ready", timeout=60_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        png = page.locator("#view").screenshot()
        (artifacts_dir / "agent-build.png").write_bytes(png)
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)
        page.close()
    lit = (np.abs(pixels).sum(axis=2) > 40).mean()
    assert errors == []
    assert 0.01 < lit < 0.9, f"{lit:.3f} of the view is lit"


@pytest.mark.browser
def test_preview_site_tool_takes_a_screenshot(built: Built, browser: object) -> None:
    """Also while the session's browser fixture runs Playwright in this thread."""
    from spacesmith.agent.codeagent.local_tools import PreviewSiteTool
    from spacesmith.agent.runs.workspace import Workspace

    shot = PreviewSiteTool(Workspace(built.workspace)).forward()
    image = Image.open(built.workspace / shot)
    assert image.size == (960, 600)


def test_six_monuments_from_the_theme_table(offline_settings: object,
                                            open_agent: object) -> None:
    """No subject list: the planner takes six Paris monuments and fans the calls out."""
    settings = offline_settings.with_(subjects=())  # type: ignore[attr-defined]
    harness = open_agent(settings)  # type: ignore[operator]
    outcome = harness.run(harness.task_for(settings.goal))
    assert outcome.success, outcome.output
    splats = web_splats(harness.workspace.site_dir)
    assert len(splats) == 6 and "Panthéon" in splats
    for path in splats.values():
        assert_upright_and_framed(path)
    assert harness.session.calls_made == 12
