"""Realistic synthetic splats for tests and benchmarks: a mushroom with floaters.

The object is recognisable and not symmetric under the Y flip: a white stem
(a cylinder, y in [0, 1]) under a wider red cap (a half ellipsoid, y in [1, 1.6]),
Y up, standing on the ground plane. Around it float a few faint, large splats, the way
image-to-splat reconstructions leave them. ``y_down=True`` gives the same splat in the
Y-down frame those reconstructions use (a 180° turn about X).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spacesmith.tools.splat.model import SH_C0, SH_COUNTS, Splat

STEM_TOP = 1.0
CAP_TOP = 1.6


def make_splat(
    n: int,
    *,
    sh_degree: int = 0,
    seed: int = 0,
    floaters: float = 0.03,
    y_down: bool = False,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> Splat:
    """A mushroom of ``n`` splats with a fraction of floaters.

    Args:
        n: number of splats (>= 1).
        sh_degree: 0-3; rest coefficients are small random values.
        seed: the random seed (same seed, same splat).
        floaters: fraction of faint splats scattered in a box 4x the object's size.
        y_down: return it in the Y-down frame (x, -y, -z) of reconstruction Spaces.
        offset: added to every position (after ``scale``), in the Y-up frame.
        scale: uniform scale of the object.

    Returns:
        The splat, raw 3DGS encodings, float32, quaternions deliberately unnormalised.
    """
    rng = np.random.default_rng(seed)
    n_float = round(n * floaters) if n > 1 else 0
    n_obj = n - n_float
    n_stem = n_obj // 3
    n_cap = n_obj - n_stem
    # stem: a cylinder of radius 0.18
    a = rng.uniform(0, 2 * np.pi, n_stem)
    r = 0.18 * np.sqrt(rng.uniform(0, 1, n_stem))
    stem = np.column_stack((r * np.cos(a), rng.uniform(0, STEM_TOP, n_stem), r * np.sin(a)))
    # cap: the upper half of an ellipsoid, radius 0.7, height 0.6, surface-heavy
    v = rng.normal(size=(n_cap, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[:, 1] = np.abs(v[:, 1])
    shell = rng.uniform(0.85, 1.0, n_cap)[:, None]
    cap = v * shell * np.array([0.7, CAP_TOP - STEM_TOP, 0.7]) + np.array([0, STEM_TOP, 0])
    floats = rng.uniform(-1, 1, (n_float, 3)) * np.array([2.8, 1.6, 2.8]) + np.array([0, 0.8, 0])
    pos = np.concatenate((stem, cap, floats)) * scale + np.asarray(offset)

    colour = np.concatenate((
        np.tile([0.92, 0.90, 0.85], (n_stem, 1)),
        np.tile([0.85, 0.12, 0.10], (n_cap, 1)),
        rng.uniform(0.2, 0.8, (n_float, 3)),
    )) + rng.normal(0, 0.03, (n, 3))
    alpha = np.concatenate((rng.uniform(0.55, 0.99, n_obj), rng.uniform(0.01, 0.2, n_float)))
    sigma = np.concatenate((
        rng.lognormal(np.log(0.012), 0.35, (n_obj, 3)),
        rng.lognormal(np.log(0.08), 0.3, (n_float, 3)),
    )) * scale
    quat = rng.normal(size=(n, 4)) * rng.uniform(0.5, 2.0, (n, 1))
    k = SH_COUNTS[sh_degree]
    rest = rng.normal(0, 0.08, (n, k, 3))
    splat = Splat(
        positions=pos.astype(np.float32),
        scales=np.log(sigma).astype(np.float32),
        rotations=quat.astype(np.float32),
        opacities=np.log(alpha / (1 - alpha)).astype(np.float32),
        sh_dc=((np.clip(colour, 0.0, 1.0) - 0.5) / SH_C0).astype(np.float32),
        sh_rest=rest.astype(np.float32),
    )
    if y_down:
        from spacesmith.tools.splat.transform import flip_y

        splat = flip_y(splat)
    return splat


def write_test_ply(
    path: str | os.PathLike[str],
    splat: Splat | None = None,
    *,
    n: int = 2000,
    sh_degree: int = 0,
    seed: int = 0,
    normals: bool = True,
    dtype: str = "<f4",
    shuffle: bool = False,
    extra: tuple[str, ...] = (),
) -> Splat:
    """Write a 3DGS PLY without going through the spacesmith writers (a fixture's fixture).

    Args:
        path: where to write.
        splat: the splat to write (default: ``make_splat(n, sh_degree=..., seed=...)``).
        normals: include nx, ny, nz.
        dtype: the numpy type of every property (``"<f4"``, ``"<f8"``, ``">f4"``...).
        shuffle: put the properties in a random (seeded) order.
        extra: names of extra float properties to add (filled with zeros).

    Returns:
        The splat that was written.
    """
    if splat is None:
        splat = make_splat(n, sh_degree=sh_degree, seed=seed)
    k = splat.sh_rest.shape[1]
    cols: dict[str, np.ndarray] = {}  # type: ignore[type-arg]
    for i, axis in enumerate("xyz"):
        cols[axis] = splat.positions[:, i]
    if normals:
        for axis in ("nx", "ny", "nz"):
            cols[axis] = np.zeros(splat.count, np.float32)
    for i in range(3):
        cols[f"f_dc_{i}"] = splat.sh_dc[:, i]
    for c in range(3):
        for i in range(k):
            cols[f"f_rest_{c * k + i}"] = splat.sh_rest[:, i, c]
    cols["opacity"] = splat.opacities
    for i in range(3):
        cols[f"scale_{i}"] = splat.scales[:, i]
    for i in range(4):
        cols[f"rot_{i}"] = splat.rotations[:, i]
    for name in extra:
        cols[name] = np.zeros(splat.count, np.float32)
    names = list(cols)
    if shuffle:
        np.random.default_rng(seed).shuffle(names)
    rec = np.empty(splat.count, [(name, dtype) for name in names])
    for name in names:
        rec[name] = cols[name]
    kind = {"f4": "float", "f8": "double"}[np.dtype(dtype).str[1:]]
    endian = "binary_big_endian" if np.dtype(dtype).str[0] == ">" else "binary_little_endian"
    header = ["ply", f"format {endian} 1.0", f"element vertex {splat.count}"]
    header += [f"property {kind} {name}" for name in names] + ["end_header\n"]
    Path(path).write_bytes("\n".join(header).encode() + rec.tobytes())
    return splat
