"""Every writer checked by the reference reader of its format (node, pinned in tests/js).

.ksplat -> GaussianSplats3D's KSplatLoader; .spz, .ply, .splat -> @playcanvas/splat-transform.
Decoded attributes are compared with the source within each format's quantisation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spacesmith.tools.splat.io import read_splat_file, write
from spacesmith.tools.splat.model import Splat
from spacesmith.tools.splat.synthetic import make_splat
from tests.fixtures.splats import NodeReference

pytestmark = pytest.mark.node

N = 1500


def _unit(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _match(decoded: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Index into ``source`` of the nearest source position of each decoded position."""
    d = ((decoded[:, None, :].astype(np.float64) - source[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(d.argmin(axis=1))


def _check_rotations(got: np.ndarray, want: np.ndarray, tol: float) -> None:
    dots = np.abs((_unit(got) * _unit(want.astype(np.float64))).sum(axis=1))
    assert dots.min() > 1 - tol, f"rotation mismatch: min |dot| {dots.min()}"


def _splat_with_faint(sh_degree: int) -> Splat:
    s = make_splat(N, sh_degree=sh_degree, seed=7 + sh_degree)
    op = s.opacities.copy()
    op[:10] = -9.0  # alpha ~1e-4: 8-bit alpha 0, dropped by .ksplat writers
    return Splat(s.positions, s.scales, s.rotations, op, s.sh_dc, s.sh_rest)


@pytest.mark.parametrize(("level", "sh_degree"), [(0, 0), (1, 0), (2, 0), (0, 2), (1, 1),
                                                  (1, 2), (2, 2)])
def test_ksplat_loaded_by_gaussian_splats_3d(node_reference: NodeReference, tmp_path: Path,
                                             level: int, sh_degree: int) -> None:
    src = _splat_with_faint(sh_degree)
    path = tmp_path / f"out_l{level}_sh{sh_degree}.ksplat"
    write(src, path, level=level)
    ref: dict[str, Any] = node_reference.ksplat(path)

    alpha8 = np.floor(src.alphas().astype(np.float64) * 255)
    kept = alpha8 >= 1
    assert ref["count"] == int(kept.sum()) == N - 10
    assert ref["compressionLevel"] == level
    assert ref["shDegree"] == sh_degree
    centers = np.array(ref["centers"], np.float64).reshape(-1, 3)
    idx = np.flatnonzero(kept)[_match(centers, src.positions[kept])]
    assert len(set(idx.tolist())) == len(idx), "decoded splats do not map 1:1 onto the source"
    pos_tol = 1e-6 if level == 0 else 2.5 / 32767 * 0.5 + 1e-5
    assert np.abs(centers - src.positions[idx]).max() <= pos_tol

    scales = np.array(ref["scales"], np.float64).reshape(-1, 3)
    rel = 1e-6 if level == 0 else 1e-3
    np.testing.assert_allclose(scales, np.exp(src.scales[idx].astype(np.float64)), rtol=rel)
    _check_rotations(np.array(ref["rotations"]).reshape(-1, 4), src.rotations[idx],
                     1e-6 if level == 0 else 2e-3)

    colors = np.array(ref["colors"]).reshape(-1, 4)
    want_rgb = np.floor(np.clip(0.5 + 0.28209479177387814 * src.sh_dc[idx].astype(np.float64),
                                0, 1) * 255)
    assert np.abs(colors[:, :3] - want_rgb).max() <= 1
    assert np.abs(colors[:, 3] - alpha8[idx]).max() <= 1

    if sh_degree:
        per = 9 if sh_degree == 1 else 24
        sh = np.array(ref["sh"], np.float64).reshape(-1, per)
        # the loader hands SH out coefficient by coefficient, RGB inside
        want_sh = src.sh_rest[idx, : per // 3, :].astype(np.float64).reshape(-1, per)
        tol = {0: 1e-6, 1: 2e-3, 2: (want_sh.max() - want_sh.min()) / 255 + 1e-3}[level]
        assert np.abs(sh - want_sh).max() <= tol


def _columns(ref: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.array(v, np.float64) for k, v in ref["columns"].items()}


def _stack(cols: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.column_stack([cols[n] for n in names])


@pytest.mark.parametrize("sh_degree", [0, 3])
def test_spz_read_by_splat_transform(node_reference: NodeReference, tmp_path: Path,
                                     sh_degree: int) -> None:
    src = make_splat(N, sh_degree=sh_degree, seed=3)
    path = tmp_path / "out.spz"
    write(src, path)
    cols = _columns(node_reference.splat_transform(path))
    assert len(cols["x"]) == N
    pos = _stack(cols, ["x", "y", "z"])
    assert np.abs(pos - src.positions).max() <= 0.5 / 4096 + 1e-6
    scales = _stack(cols, ["scale_0", "scale_1", "scale_2"])
    assert np.abs(scales - src.scales).max() <= 0.5 / 16 + 1e-5
    _check_rotations(_stack(cols, ["rot_0", "rot_1", "rot_2", "rot_3"]), src.rotations, 2e-3)
    alpha = 1 / (1 + np.exp(-cols["opacity"]))
    assert np.abs(alpha - src.alphas()).max() <= 0.5 / 255 + 1e-5
    dc = _stack(cols, ["f_dc_0", "f_dc_1", "f_dc_2"])
    assert np.abs(dc - src.sh_dc).max() <= 0.5 / (0.15 * 255) + 1e-4
    k = src.sh_rest.shape[1]
    if k:
        rest = _stack(cols, [f"f_rest_{i}" for i in range(3 * k)]).reshape(N, 3, k)
        want = src.sh_rest.transpose(0, 2, 1)
        err = np.abs(rest - want)
        assert err[:, :, :3].max() <= 4 / 128 + 1 / 256 + 1e-6  # band 1: 5 bits
        assert err[:, :, 3:].max() <= 8 / 128 + 1 / 256 + 1e-6  # bands 2-3: 4 bits


@pytest.mark.parametrize("sh_degree", [0, 3])
def test_ply_read_by_splat_transform(node_reference: NodeReference, tmp_path: Path,
                                     sh_degree: int) -> None:
    src = make_splat(N, sh_degree=sh_degree, seed=4)
    path = tmp_path / "out.ply"
    write(src, path)
    cols = _columns(node_reference.splat_transform(path))
    np.testing.assert_array_equal(_stack(cols, ["x", "y", "z"]), src.positions)
    np.testing.assert_array_equal(_stack(cols, ["scale_0", "scale_1", "scale_2"]), src.scales)
    np.testing.assert_array_equal(_stack(cols, ["rot_0", "rot_1", "rot_2", "rot_3"]),
                                  src.rotations)
    np.testing.assert_array_equal(cols["opacity"], src.opacities)
    np.testing.assert_array_equal(_stack(cols, ["f_dc_0", "f_dc_1", "f_dc_2"]), src.sh_dc)
    k = src.sh_rest.shape[1]
    if k:
        rest = _stack(cols, [f"f_rest_{i}" for i in range(3 * k)]).reshape(N, 3, k)
        np.testing.assert_array_equal(rest, src.sh_rest.transpose(0, 2, 1))


def test_antimatter_splat_read_by_splat_transform(node_reference: NodeReference,
                                                  tmp_path: Path) -> None:
    src = make_splat(N, seed=5)
    path = tmp_path / "out.splat"
    write(src, path)
    cols = _columns(node_reference.splat_transform(path))
    np.testing.assert_allclose(_stack(cols, ["x", "y", "z"]), src.positions, atol=1e-6)
    np.testing.assert_allclose(_stack(cols, ["scale_0", "scale_1", "scale_2"]), src.scales,
                               atol=1e-4)
    _check_rotations(_stack(cols, ["rot_0", "rot_1", "rot_2", "rot_3"]), src.rotations, 2e-3)
    colour = np.clip(0.5 + 0.28209479177387814 * _stack(cols, ["f_dc_0", "f_dc_1", "f_dc_2"]),
                     0, 1)
    assert np.abs(colour - src.colors()).max() <= 1.5 / 255
    alpha = 1 / (1 + np.exp(-cols["opacity"]))
    assert np.abs(alpha - src.alphas()).max() <= 1.5 / 255


@pytest.mark.parametrize("ext", [".ksplat", ".spz", ".splat"])
def test_our_readers_agree_with_the_reference_on_our_files(node_reference: NodeReference,
                                                           tmp_path: Path, ext: str) -> None:
    src = make_splat(600, sh_degree=2 if ext == ".ksplat" else 0, seed=11)
    path = tmp_path / f"out{ext}"
    write(src, path)
    ours = read_splat_file(path)
    if ext == ".ksplat":
        ref = node_reference.ksplat(path)
        np.testing.assert_allclose(ours.positions, np.reshape(ref["centers"], (-1, 3)), atol=1e-6)
        np.testing.assert_allclose(np.exp(ours.scales), np.reshape(ref["scales"], (-1, 3)),
                                   rtol=1e-5)
    else:
        cols = _columns(node_reference.splat_transform(path))
        np.testing.assert_allclose(ours.positions, _stack(cols, ["x", "y", "z"]), atol=1e-6)
        np.testing.assert_allclose(ours.sh_dc, _stack(cols, ["f_dc_0", "f_dc_1", "f_dc_2"]),
                                   atol=1e-4)


def test_reading_files_written_by_splat_transform(node_reference: NodeReference,
                                                  tmp_path: Path) -> None:
    src = make_splat(N, sh_degree=3, seed=6)
    ply = tmp_path / "in.ply"
    write(src, ply)
    spz = tmp_path / "theirs.spz"
    node_reference.splat_transform_cli(str(ply), "--spz-version", "3", str(spz))
    back = read_splat_file(spz)
    assert back.count == N and back.sh_degree == 3
    assert np.abs(back.positions - src.positions).max() <= 1 / 4096


def test_flip_matches_splat_transform_rotate_180_x(node_reference: NodeReference,
                                                   tmp_path: Path) -> None:
    from spacesmith.tools.splat.transform import flip_y

    src = make_splat(N, sh_degree=3, seed=8)
    ply = tmp_path / "in.ply"
    write(src, ply)
    out = tmp_path / "theirs.ply"
    node_reference.splat_transform_cli(str(ply), "-r", "180,0,0", str(out))
    theirs = read_splat_file(out)
    ours = flip_y(src)
    np.testing.assert_allclose(ours.positions, theirs.positions, atol=1e-5)
    _check_rotations(theirs.rotations, ours.rotations, 1e-6)
    np.testing.assert_allclose(ours.sh_rest, theirs.sh_rest, atol=1e-5)


def test_euler_rotation_matches_splat_transform(node_reference: NodeReference,
                                                tmp_path: Path) -> None:
    from spacesmith.tools.splat.transform import rotate

    src = make_splat(N, sh_degree=3, seed=9)
    ply = tmp_path / "in.ply"
    write(src, ply)
    out = tmp_path / "theirs.ply"
    node_reference.splat_transform_cli(str(ply), "-r", "30,-50,70", str(out))
    theirs = read_splat_file(out)
    # splat-transform turns the splat in PlayCanvas' frame (the PLY turned 180° about Z):
    # its -r x,y,z is our rotation by (-x, -y, z) in the file's own axes
    ours = rotate(src, -30, 50, 70)
    np.testing.assert_allclose(ours.positions, theirs.positions, atol=1e-4)
    _check_rotations(theirs.rotations, ours.rotations, 1e-5)
    np.testing.assert_allclose(ours.sh_rest, theirs.sh_rest, atol=1e-3)
