"""``spacesmith spaces``: call, inspect, serve, errors and the cold-start import rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spacesmith.agent.cli.main import main
from spacesmith.agent.cli.spaces import parse_assignments


def test_call_on_the_splat_standin_returns_a_readable_ply(
    standins: Any, sample_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from plyfile import PlyData

    out = tmp_path / "out"
    code = main(["spaces", "call", standins.splat_url, "/generate", f"image=@{sample_png}",
                 "num_gaussians=65536", "seed=3", "-o", str(out), "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"outputs", "files", "elapsed_s", "attempts"}
    ply = next(Path(f) for f in data["files"] if f.endswith(".ply"))
    assert ply.parent == out and PlyData.read(str(ply))["vertex"].count == 65536
    assert data["attempts"] == 1 and data["elapsed_s"] > 0


def test_call_prints_labelled_outputs_and_plain_progress(
    standins: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["spaces", "call", standins.image.agents_md_url, "generate",
                 "prompt=Luxor obelisk", "width=256", "height=256", "-o", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0
    assert f"Result: {tmp_path / 'image.png'}" in captured.out
    assert "Caption: Luxor obelisk (obelisk, default)" in captured.out
    assert "[spaces] /generate: done" in captured.err  # stderr is not a TTY here


def test_inspect_json(standins: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces", "inspect", standins.image_url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    params = data["endpoints"]["/generate"]["parameters"]
    assert [p["name"] for p in params][:3] == ["prompt", "mode", "upsampler"]
    assert data["call_style"] == "v2"


def test_inspect_text(standins: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces", "inspect", standins.splat_url]) == 0
    out = capsys.readouterr().out
    assert "num_gaussians: string, optional; default '262144'; one of '32768'" in out
    assert "steps: number, optional; default 20; range 1..50" in out


def test_errors_are_one_line_with_their_exit_codes(
    standins: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["spaces", "call", standins.splat_url, "/generate", "image=@nope.png",
                 "num_gaussians=1000", "-o", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1  # ParameterError is a SpaceError (exit 1)
    assert err[-1].startswith("Error: Space ") and "'32768'" in err[-1]
    assert main(["spaces", "call", standins.splat_url, "/generate", "oops"]) == 2


def test_parse_assignments(tmp_path: Path) -> None:
    parsed = parse_assignments(["seed=3", "prompt=a red arch", "flag=true", "img=@x.png",
                                'name="42"'])
    assert parsed == {"seed": 3, "prompt": "a red arch", "flag": True, "img": Path("x.png"),
                      "name": "42"}


def test_call_path_never_imports_gradio() -> None:
    code = ("import sys, spacesmith.agent.cli.main as c; c.build_parser(); "
            "import spacesmith.agent.cli.spaces, spacesmith.tools.spaces.client; "
            "print('gradio' in sys.modules, 'gradio_client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False False"


def test_serve_prints_agents_md_urls(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    import spacesmith.agent.cli.spaces as cli_spaces

    fetched: list[str] = []

    def fetch_then_interrupt() -> None:
        for line in capsys.readouterr().out.splitlines():
            fetched.append(httpx.get(line.split(" ", 1)[1]).text)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_spaces, "wait_until_interrupted", fetch_then_interrupt)
    assert main(["spaces", "serve", "--faults", "0.5:503@1", "--latency", "0.01"]) == 0
    assert len(fetched) == 2 and all(text.startswith("To use this application (spacesmith/")
                                     for text in fetched)
    assert "Stopped." in capsys.readouterr().err


def test_serve_rejects_a_bad_fault_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces", "serve", "--faults", "often"]) == 2
    assert "expected RATE[:KIND,...][@SEED]" in capsys.readouterr().err
