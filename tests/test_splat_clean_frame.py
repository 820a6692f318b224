"""Clean-up, framing and stats on realistic synthetic splats."""

from __future__ import annotations

import numpy as np
import pytest

from spacesmith.tools.errors import SplatError
from spacesmith.tools.splat.clean import decimate, drop_nonfinite, prune, remove_outliers
from spacesmith.tools.splat.frame import frame, robust_extent
from spacesmith.tools.splat.model import Splat
from spacesmith.tools.splat.stats import compute_stats, verdict
from spacesmith.tools.splat.synthetic import make_splat
from spacesmith.tools.splat.transform import Transform, apply


def test_prune_drops_faint_degenerate_and_nonfinite() -> None:
    s = make_splat(1000, seed=1)
    pos = s.positions.copy()
    pos[0] = np.inf
    rot = s.rotations.copy()
    rot[1] = 0
    broken = Splat(pos, s.scales, rot, s.opacities, s.sh_dc, s.sh_rest)
    assert drop_nonfinite(broken).count == 999
    out = prune(broken, min_alpha=0.3)
    assert out.count < 990 and (out.alphas() >= 0.3 - 1e-6).all()
    assert np.isfinite(out.positions).all()


def test_outliers_removed_but_body_kept() -> None:
    s = make_splat(4000, floaters=0.0, seed=2)
    far = make_splat(40, seed=3)
    far_pos = far.positions + np.array([30.0, 0, 0], np.float32)
    both = Splat(*(np.concatenate([a, b]) for a, b in (
        (s.positions, far_pos), (s.scales, far.scales), (s.rotations, far.rotations),
        (s.opacities, far.opacities), (s.sh_dc, far.sh_dc))))
    out = remove_outliers(both)
    assert out.count >= 3990 and out.positions[:, 0].max() < 5


def test_decimate_keeps_the_most_important() -> None:
    s = make_splat(2000, seed=4)
    out = decimate(s, 500)
    assert out.count == 500
    imp = s.alphas() * np.exp(s.scales.sum(axis=1))
    assert (out.alphas() * np.exp(out.scales.sum(axis=1))).min() >= np.sort(imp)[-500] - 1e-9
    with pytest.raises(SplatError):
        decimate(s, 0)


def test_frame_ignores_floaters_and_stands_on_the_ground() -> None:
    s = make_splat(20000, floaters=0.05, seed=5)
    moved = apply(s, Transform(translation=(10.0, -7.0, 3.0), scale=13.0))
    framed, cam = frame(moved, size=2.0)
    ext = robust_extent(framed)
    assert abs(ext.radius - 1.0) < 0.02
    assert abs(ext.centre[0]) < 0.05 and abs(ext.centre[2]) < 0.05
    assert abs(ext.floor) < 0.02
    assert cam.target[1] > 0 and cam.position[2] > 2.0 and cam.up == (0.0, 1.0, 0.0)
    assert 0 < cam.near < cam.far
    # the whole robust sphere is inside the view cone
    dist = np.linalg.norm(np.subtract(cam.position, cam.target))
    assert np.degrees(np.arcsin(1.0 / dist)) < cam.fov / 2


def test_stats_and_verdicts() -> None:
    good = compute_stats(make_splat(5000, seed=6))
    assert verdict(good).ok and good.count == 5000 and sum(good.opacity_histogram) == 5000
    tiny = compute_stats(make_splat(50, seed=6))
    assert "nearly empty" in verdict(tiny).problems[0]
    s = make_splat(5000, seed=7)
    pos = s.positions.copy()
    pos[::3] *= 40  # a third of the splats flung far out
    bad = compute_stats(Splat(pos, s.scales, s.rotations, s.opacities, s.sh_dc))
    assert any(p.startswith("exploded") for p in verdict(bad).problems)
    assert compute_stats(make_splat(100)).to_dict()["count"] == 100


def test_framed_object_top_and_base_are_inside_the_view_with_room() -> None:
    """The whole object, spire and base included, sits inside the vertical field of view
    with room left for the title overlay (a 'zoom out' should not be needed at first)."""
    import math

    framed, cam = frame(make_splat(20_000, seed=3, floaters=0.0))
    ys = np.sort(framed.positions[:, 1])
    top, base = float(ys[int(len(ys) * 0.999)]), float(ys[int(len(ys) * 0.001)])
    view = np.subtract(cam.target, cam.position)
    view /= np.linalg.norm(view)
    for y in (top, base):
        to_point = np.subtract((cam.target[0], y, cam.target[2]), cam.position)
        angle = math.degrees(math.acos(float(np.dot(view, to_point / np.linalg.norm(to_point)))))
        assert angle < cam.fov / 2 * 0.8, f"y={y:.2f} is {angle:.1f} deg off-axis (fov {cam.fov})"
