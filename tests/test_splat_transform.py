"""Transforms, checked numerically: SH rotation, the Y flip's sign rule, composition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacesmith.tools.errors import SplatError
from spacesmith.tools.splat.model import Splat
from spacesmith.tools.splat.synthetic import make_splat
from spacesmith.tools.splat.transform import (
    FLIP_SH_SIGNS,
    Transform,
    apply,
    euler_matrix,
    flip_y,
    matrix_from_quaternion,
    rotate,
    sh_basis,
    sh_rotation,
)

angles = st.floats(-360, 360, allow_nan=False)


def _dirs(n: int = 200, seed: int = 1) -> np.ndarray:
    d = np.random.default_rng(seed).normal(size=(n, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _eval_sh(rest: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Value of each splat's SH (bands 1-3, channel 0) in each direction: (N, D)."""
    k = rest.shape[1]
    basis = np.concatenate([sh_basis(dirs, b) for b in (1, 2, 3) if b * (b + 2) <= k], axis=1)
    return rest[:, :, 0].astype(np.float64) @ basis.T


@settings(max_examples=30, deadline=None)
@given(ax=angles, ay=angles, az=angles)
def test_rotated_sh_evaluated_at_rotated_direction_is_unchanged(ax: float, ay: float,
                                                               az: float) -> None:
    src = make_splat(20, sh_degree=3, seed=2)
    r = euler_matrix(ax, ay, az)
    out = apply(src, Transform(rotation=r))
    d = _dirs()
    np.testing.assert_allclose(_eval_sh(out.sh_rest, d @ r.T), _eval_sh(src.sh_rest, d),
                               atol=2e-5)


@settings(max_examples=30, deadline=None)
@given(a=st.tuples(angles, angles, angles), b=st.tuples(angles, angles, angles))
def test_composition(a: tuple[float, float, float], b: tuple[float, float, float]) -> None:
    src = make_splat(30, sh_degree=3, seed=3)
    ta, tb = Transform.rotate(*a), Transform.rotate(*b)
    twice = apply(apply(src, tb), ta)
    once = apply(src, ta @ tb)
    np.testing.assert_allclose(twice.positions, once.positions, atol=1e-4)
    np.testing.assert_allclose(twice.sh_rest, once.sh_rest, atol=1e-4)
    dots = np.abs((_unit(twice.rotations) * _unit(once.rotations)).sum(axis=1))
    assert dots.min() > 1 - 1e-5


def _unit(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def test_quaternion_rotation_matches_the_matrix() -> None:
    src = make_splat(50, seed=4)
    r = euler_matrix(10, 70, -20)
    out = rotate(src, 10, 70, -20)
    for q0, q1 in zip(src.rotations, out.rotations, strict=True):
        np.testing.assert_allclose(matrix_from_quaternion(q1), r @ matrix_from_quaternion(q0),
                                   atol=1e-5)


def test_flip_sign_rule_and_exactness() -> None:
    src = make_splat(100, sh_degree=3, seed=5)
    out = flip_y(src)
    np.testing.assert_array_equal(out.positions, src.positions * np.array([1, -1, -1], np.float32))
    q = src.rotations
    np.testing.assert_array_equal(out.rotations,
                                  np.column_stack((-q[:, 1], q[:, 0], -q[:, 3], q[:, 2])))
    np.testing.assert_array_equal(out.sh_rest, src.sh_rest * FLIP_SH_SIGNS[:, None])
    assert FLIP_SH_SIGNS.tolist() == [-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1]
    # the generic rotation path agrees with the exact flip
    generic = [sh_rotation(np.diag([1.0, -1.0, -1.0]), b) for b in (1, 2, 3)]
    np.testing.assert_allclose(np.concatenate([np.diag(g) for g in generic]), FLIP_SH_SIGNS)
    np.testing.assert_array_equal(flip_y(out).positions, src.positions)
    for name in ("scales", "opacities", "sh_dc"):
        np.testing.assert_array_equal(getattr(out, name), getattr(src, name))


def test_flip_turns_a_y_down_object_upright() -> None:
    down = make_splat(3000, y_down=True, floaters=0.0)
    up = flip_y(down)
    assert np.median(up.positions[:, 1]) > 0.5 and up.positions[:, 1].min() > -0.05


def test_translate_scale_and_drop_sh() -> None:
    src = make_splat(10, sh_degree=2)
    t = Transform(translation=(1.0, 2.0, 3.0), scale=2.0)
    out = apply(src, t, drop_sh=True)
    np.testing.assert_allclose(out.positions, src.positions * 2 + [1, 2, 3], atol=1e-6)
    np.testing.assert_allclose(out.scales, src.scales + np.log(2.0), atol=1e-6)
    assert out.sh_degree == 0


def test_rejects_mirrors_and_bad_scales() -> None:
    with pytest.raises(SplatError, match="mirror"):
        Transform(rotation=np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(SplatError, match="scale"):
        Transform(scale=0.0)


def test_empty_splat_transforms() -> None:
    empty = make_splat(5).take(np.zeros(5, bool))
    assert isinstance(rotate(empty, 0, 30, 0), Splat)
