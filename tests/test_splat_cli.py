"""``spacesmith splat info`` / ``convert`` and the convert pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spacesmith.agent.cli.main import main
from spacesmith.tools.errors import SplatError, SplatFormatError
from spacesmith.tools.splat.convert import convert
from spacesmith.tools.splat.frame import robust_extent
from spacesmith.tools.splat.io import read_splat_file
from spacesmith.tools.splat.model import Splat
from spacesmith.tools.splat.synthetic import make_splat, write_test_ply


def test_info_text_and_json(splat_ply: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["splat", "info", str(splat_ply)]) == 0
    assert "3,000 splats, SH degree 0" in capsys.readouterr().out
    assert main(["splat", "info", str(splat_ply), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["count"] == 3000 and data["verdict"]["ok"] is True


def test_info_on_a_broken_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nend_header\n")
    assert main(["splat", "info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "no 'x' property" in err and err.count("\n") == 1


@pytest.mark.parametrize("ext", [".ksplat", ".spz", ".ply", ".splat"])
def test_convert_cli_fixes_a_y_down_reconstruction(splat_ply_sh3: Path, tmp_path: Path,
                                                   ext: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"web{ext}"
    rc = main(["splat", "convert", str(splat_ply_sh3), str(out), "--flip-y", "--frame",
               "--prune-alpha", "0.05", "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert result["out_bytes"] == out.stat().st_size
    assert result["dropped"]["pruned"] > 0
    splat = read_splat_file(out)
    ext_ = robust_extent(splat)
    assert abs(ext_.floor) < 0.05 and abs(ext_.radius - 1.0) < 0.05
    assert np.median(splat.positions[:, 1]) > 0.3  # upright: the stem is below the cap
    cam = result["camera"]
    assert cam["up"] == [0.0, 1.0, 0.0] and cam["position"][2] > 1.0


def test_convert_options(splat_ply_sh3: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.ksplat"
    res = convert(splat_ply_sh3, out, rotate=(0.0, 90.0, 0.0), max_splats=1000, sh_degree=1,
                  level=2)
    assert res.out_count == 1000 and res.dropped["decimated"] == 2000
    assert read_splat_file(out).sh_degree == 1
    with pytest.raises(SplatError, match="SH degree 0-2"):
        convert(splat_ply_sh3, tmp_path / "x.ksplat", sh_degree=3)
    with pytest.raises(SplatError, match="no splats left"):
        convert(splat_ply_sh3, tmp_path / "y.spz", prune_alpha=0.999)
    assert not (tmp_path / "y.spz").exists()
    with pytest.raises(SplatError, match="same file"):
        convert(splat_ply_sh3, splat_ply_sh3)


def test_convert_drops_a_few_nan_but_rejects_mostly_nan(tmp_path: Path) -> None:
    s = make_splat(200)
    pos = s.positions.copy()
    pos[:5] = np.nan
    write_test_ply(tmp_path / "few.ply", Splat(pos, s.scales, s.rotations, s.opacities, s.sh_dc))
    res = convert(tmp_path / "few.ply", tmp_path / "few.spz")
    assert res.out_count == 195 and res.dropped["nonfinite"] == 5
    pos[:150] = np.nan
    write_test_ply(tmp_path / "most.ply", Splat(pos, s.scales, s.rotations, s.opacities, s.sh_dc))
    with pytest.raises(SplatFormatError, match="150 of 200"):
        convert(tmp_path / "most.ply", tmp_path / "most.spz")


def test_bad_cli_arguments(splat_ply: Path, tmp_path: Path) -> None:
    for bad in (["--rotate", "1,2"], ["--prune-alpha", "1.5"], ["--level", "3"]):
        with pytest.raises(SystemExit):
            main(["splat", "convert", str(splat_ply), str(tmp_path / "o.spz"), *bad])


def test_cold_start_does_not_import_heavy_packages(splat_ply: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from spacesmith.agent.cli.main import main; "
        f"rc = main(['splat', 'convert', {str(splat_ply)!r}, {str(tmp_path / 'o.ksplat')!r}, "
        "'--flip-y', '--frame']); "
        "heavy = [m for m in ('plyfile', 'jinja2', 'httpx', 'smolagents', 'gradio', 'rich') "
        "if m in sys.modules]; print(heavy); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
