"""Robust auto-framing: stand the object on the ground at the origin, sized, with a camera.

Floaters inflate a min/max box, so the frame is taken from percentiles of the opaque
splats: the centre from a percentile box, the radius from a high percentile of distances,
the ground from a low percentile of heights. The object is then scaled so that its
robust radius is ``size / 2``, centred on x = z = 0 and lifted onto y = 0, and the camera
looks at its middle from the front (+Z), slightly above, far enough to see the whole
robust sphere with the given field of view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatError
from spacesmith.tools.splat.clean import finite_mask, opaque_mask, quantiles, sample_step
from spacesmith.tools.splat.model import Camera, Splat
from spacesmith.tools.splat.transform import Transform, apply

OPAQUE = 0.1
LOW, HIGH = 2.0, 98.0


@dataclass(frozen=True)
class Extent:
    """The robust extent of a splat: centre of the percentile box, radius and floor."""

    centre: tuple[float, float, float]
    radius: float
    floor: float


def robust_extent(splat: Splat, *, low: float = LOW, high: float = HIGH) -> Extent:
    """Centre (percentile box), radius (``high`` percentile distance) and floor (``low``
    percentile of y) of the opaque, finite splats (all finite ones if too few are opaque).

    Raises:
        SplatError: no finite splat.
    """
    return extent_of(splat.positions, splat.opacities, finite_mask(splat), low=low, high=high)


def extent_of(positions: npt.NDArray[np.float32], opacities: npt.NDArray[np.float32],
              ok: npt.NDArray[np.bool_], *, low: float = LOW, high: float = HIGH) -> Extent:
    """:func:`robust_extent` from the arrays it needs; ``ok`` marks the finite splats.

    Raises:
        SplatError: no finite splat.
    """
    opaque = ok & opaque_mask(opacities, OPAQUE)
    enough = np.count_nonzero(opaque) >= max(8, 0.05 * np.count_nonzero(ok))
    idx = np.flatnonzero(opaque if enough else ok)
    if idx.shape[0] == 0:
        raise SplatError("cannot frame a splat with no finite splats")
    idx = idx[::sample_step(idx.shape[0])].astype(np.int32 if len(ok) < 2**31 else np.intp)
    # one float64 column at a time (the values of the (M, 3) formulation, less memory):
    # the percentile box first, then the distances from its centre
    box = [quantiles(positions[idx, j].astype(np.float64), (low, high), inplace=True)
           for j in range(3)]
    centre = [(lo + hi) / 2.0 for lo, hi in box]
    d2 = squared_distances(positions, idx, centre)
    radius = quantiles(np.sqrt(d2, out=d2), (high,), inplace=True)[0]
    return Extent(centre=(centre[0], centre[1], centre[2]),
                  radius=max(radius, 1e-6), floor=box[1][0])


def squared_distances(positions: npt.NDArray[np.float32],
                      idx: npt.NDArray[np.integer] | slice,  # type: ignore[type-arg]
                      centre: list[float]) -> npt.NDArray[np.float64]:
    """Squared distances of ``positions[idx]`` from ``centre``, in float64, summed x, y, z."""
    d2 = np.subtract(positions[idx, 0], centre[0], dtype=np.float64)
    np.square(d2, out=d2)
    for j in (1, 2):
        t = np.subtract(positions[idx, j], centre[j], dtype=np.float64)
        d2 += np.square(t, out=t)
    return d2


def camera_for(extent: Extent, *, fov: float = 50.0, elevation: float = 15.0,
               margin: float = 1.3) -> Camera:
    """The camera that shows the robust sphere of ``extent`` from the front (+Z, Y up)."""
    half = math.radians(fov) / 2.0
    distance = extent.radius * margin / math.sin(half)
    el = math.radians(elevation)
    cx, cy, cz = extent.centre
    position = (cx, cy + distance * math.sin(el), cz + distance * math.cos(el))
    return Camera(
        position=position,
        target=extent.centre,
        up=(0.0, 1.0, 0.0),
        fov=fov,
        near=max(1e-3, (distance - 4.0 * extent.radius) * 0.5, distance * 0.01),
        far=distance + 20.0 * extent.radius,
    )


def frame(splat: Splat, *, size: float = 2.0, fov: float = 50.0,
          ground: bool = True) -> tuple[Splat, Camera]:
    """Stand ``splat`` on the ground plane at the origin, ``size`` across, and aim a camera.

    Args:
        splat: a Y-up splat.
        size: the robust diameter after framing (scene units).
        fov: the camera's vertical field of view in degrees.
        ground: put the robust floor on y = 0 (otherwise centre it on the origin).

    Returns:
        The framed splat and the camera (three.js conventions) a viewer should use.

    Raises:
        SplatError: ``size`` not positive, or nothing finite to frame.
    """
    if not size > 0:
        raise SplatError(f"frame size must be positive, got {size}")
    move, new = frame_transform(robust_extent(splat), size=size, ground=ground)
    return apply(splat, move), camera_for(new, fov=fov)


def frame_transform(ext: Extent, *, size: float = 2.0,
                    ground: bool = True) -> tuple[Transform, Extent]:
    """The move that frames an object of robust extent ``ext`` (see :func:`frame`), and the
    extent it has afterwards.

    Raises:
        SplatError: ``size`` not positive.
    """
    if not size > 0:
        raise SplatError(f"frame size must be positive, got {size}")
    s = size / (2.0 * ext.radius)
    cx, cy, cz = ext.centre
    lift = -ext.floor * s if ground else -cy * s
    move = Transform(translation=(-cx * s, lift, -cz * s), scale=s)
    new = Extent(centre=(0.0, cy * s + lift, 0.0), radius=size / 2.0, floor=ext.floor * s + lift)
    return move, new


def distances(splat: Splat, centre: tuple[float, float, float]) -> npt.NDArray[np.float32]:
    """Distance of every splat from ``centre``."""
    d = splat.positions - np.asarray(centre, np.float32)
    return np.asarray(np.sqrt(np.einsum("ij,ij->i", d, d)), np.float32)
