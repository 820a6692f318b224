"""CLI: site build, site preview, deploy — exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from spacesmith.agent.cli.main import main
from tests.fixtures.fake_hub import WRITE_TOKEN, FakeHub
from tests.fixtures.site import GalleryMaker


def test_build_then_deploy_dry_run_and_push(make_gallery: GalleryMaker, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           fake_hub: FakeHub,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert main(["site", "build", str(make_gallery(2)), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Built {out}: 2 splats" in printed
    assert (out / "index.html").is_file()

    assert main(["deploy", str(out), "--space", "tester/g", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "Would push" in printed and "  index.html" in printed

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["deploy", str(out), "--space", "tester/g", "--endpoint", fake_hub.url]) == 0
    assert f"{fake_hub.url}/spaces/tester/g" in capsys.readouterr().out
    assert main(["deploy", str(out), "--space", "tester/g", "--endpoint", fake_hub.url]) == 0
    assert "Nothing changed" in capsys.readouterr().out


def test_errors_are_one_line_with_exit_codes(make_gallery: GalleryMaker, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = make_gallery(1)
    data = json.loads(path.read_text())
    del data["items"][0]["splat"]
    path.write_text(json.dumps(data))
    assert main(["site", "build", str(path), "-o", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: key 'items[0].splat' is missing") and err.count("\n") == 1

    assert main(["deploy", str(tmp_path), "--space", "nope"]) == 1
    assert "invalid Space id 'nope'" in capsys.readouterr().err


def test_cdn_fallback_warns(make_gallery: GalleryMaker, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACESMITH_CACHE", str(tmp_path / "empty"))
    assert main(["site", "build", str(make_gallery(1)), "-o", str(tmp_path / "s"),
                 "--no-npm"]) == 0
    captured = capsys.readouterr()
    assert "Warning: npm is not available" in captured.err
    assert "(viewer JS from the CDN)" in captured.out


def test_preview_serves_until_stopped(make_gallery: GalleryMaker, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert main(["site", "build", str(make_gallery(1)), "-o", str(out)]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "spacesmith", "site", "preview", str(out), "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"Serving {out} at http://127.0.0.1:")
        url = line.split(" at ")[1].split(" ")[0]
        with urllib.request.urlopen(url) as response:
            assert b"gallery-data" in response.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
