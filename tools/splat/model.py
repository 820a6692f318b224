"""The typed in-memory splat and the camera a viewer should use.

A :class:`Splat` holds the raw 3DGS encodings, exactly as a PLY stores them:

- ``positions`` (N, 3) float32
- ``scales`` (N, 3) float32, log of the standard deviation (real = exp)
- ``rotations`` (N, 4) float32, quaternion (w, x, y, z), not necessarily normalised
- ``opacities`` (N,) float32, logit of alpha (alpha = sigmoid)
- ``sh_dc`` (N, 3) float32, colour = 0.5 + C0 * sh_dc
- ``sh_rest`` (N, K, 3) float32, K = (degree + 1)**2 - 1 coefficients, channel last
  (a PLY stores them channel-major: ``f_rest_{c*K + i}`` is ``sh_rest[:, i, c]``)

Splats are immutable values: every operation returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatError

F32 = npt.NDArray[np.float32]

SH_C0 = 0.28209479177387814
SH_COUNTS = {0: 0, 1: 3, 2: 8, 3: 15}


def sh_degree_for(k: int) -> int:
    """The SH degree that has ``k`` rest coefficients per channel."""
    for degree, count in SH_COUNTS.items():
        if count == k:
            return degree
    raise SplatError(f"{k} SH rest coefficients per channel is not a valid SH degree")


@dataclass(frozen=True, eq=False)
class Splat:
    positions: F32
    scales: F32
    rotations: F32
    opacities: F32
    sh_dc: F32
    sh_rest: F32 = field(default_factory=lambda: np.zeros((0, 0, 3), np.float32))

    def __post_init__(self) -> None:
        n = self.positions.shape[0]
        rest = self.sh_rest
        if rest.shape[0] != n:
            rest = np.zeros((n, 0, 3), np.float32)
            object.__setattr__(self, "sh_rest", rest)
        shapes = {
            "positions": (self.positions.shape, (n, 3)),
            "scales": (self.scales.shape, (n, 3)),
            "rotations": (self.rotations.shape, (n, 4)),
            "opacities": (self.opacities.shape, (n,)),
            "sh_dc": (self.sh_dc.shape, (n, 3)),
        }
        for name, (got, want) in shapes.items():
            if got != want:
                raise SplatError(f"splat field {name} has shape {got}, expected {want}")
        if rest.ndim != 3 or rest.shape[2] != 3:
            raise SplatError(f"splat field sh_rest has shape {rest.shape}, expected (N, K, 3)")
        sh_degree_for(rest.shape[1])

    @property
    def count(self) -> int:
        return int(self.positions.shape[0])

    @property
    def sh_degree(self) -> int:
        return sh_degree_for(int(self.sh_rest.shape[1]))

    def take(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Splat:
        """The splats selected by a boolean mask or an index array, as a new Splat."""
        return Splat(
            positions=self.positions[index],
            scales=self.scales[index],
            rotations=self.rotations[index],
            opacities=self.opacities[index],
            sh_dc=self.sh_dc[index],
            sh_rest=self.sh_rest[index],
        )

    def with_sh_degree(self, degree: int) -> Splat:
        """Drop SH bands above ``degree`` (bands are never invented)."""
        if degree < 0 or degree > 3:
            raise SplatError(f"SH degree must be 0..3, got {degree}")
        k = SH_COUNTS[min(degree, self.sh_degree)]
        return Splat(
            self.positions, self.scales, self.rotations, self.opacities, self.sh_dc,
            np.ascontiguousarray(self.sh_rest[:, :k, :]),
        )

    def colors(self) -> F32:
        """Linear RGB in [0, 1] from the DC term."""
        return np.asarray(np.clip(0.5 + SH_C0 * self.sh_dc, 0.0, 1.0), np.float32)

    def alphas(self) -> F32:
        """Opacity as alpha in [0, 1]."""
        return alphas_of(self.opacities)


def alphas_of(opacities: F32) -> F32:
    """Alpha in [0, 1] of logit opacities (computed in float64, returned as float32)."""
    return (1.0 / (1.0 + np.exp(-opacities.astype(np.float64)))).astype(np.float32)


@dataclass(frozen=True)
class Camera:
    """Where a viewer should put its camera for a framed splat (three.js conventions, Y up)."""

    position: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 1.0, 0.0)
    fov: float = 50.0
    near: float = 0.01
    far: float = 100.0

    def to_dict(self) -> dict[str, object]:
        return {
            "position": list(self.position),
            "target": list(self.target),
            "up": list(self.up),
            "fov": self.fov,
            "near": self.near,
            "far": self.far,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Camera:
        def vec(name: str, default: tuple[float, float, float]) -> tuple[float, float, float]:
            value = data.get(name, default)
            if not isinstance(value, (list, tuple)) or len(value) != 3:
                raise SplatError(f"camera.{name} must be a list of three numbers")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise SplatError(f"camera.{name} must be a list of three numbers")
            x, y, z = (float(v) for v in value)
            return (x, y, z)

        def num(name: str, default: float) -> float:
            value = data.get(name, default)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise SplatError(f"camera.{name} must be a number")
            return float(value)

        return cls(
            position=vec("position", (0.0, 0.0, 3.0)),
            target=vec("target", (0.0, 0.0, 0.0)),
            up=vec("up", (0.0, 1.0, 0.0)),
            fov=num("fov", 50.0),
            near=num("near", 0.01),
            far=num("far", 100.0),
        )


def splat_from_linear(
    *,
    positions: np.ndarray,  # type: ignore[type-arg]
    linear_scales: np.ndarray,  # type: ignore[type-arg]
    rotations: np.ndarray,  # type: ignore[type-arg]
    rgba: np.ndarray,  # type: ignore[type-arg]
    sh_rest: np.ndarray | None = None,  # type: ignore[type-arg]
) -> Splat:
    """Build a Splat from linear scales and 8-bit RGBA (the web formats' encodings)."""
    with np.errstate(divide="ignore"):
        scales = np.log(np.maximum(linear_scales.astype(np.float32), np.float32(1e-30)))
    colour = rgba[:, :3].astype(np.float32) / 255.0
    alpha = np.clip(rgba[:, 3].astype(np.float64) / 255.0, 1e-6, 1 - 1e-6)
    return Splat(
        positions=np.ascontiguousarray(positions, np.float32),
        scales=scales.astype(np.float32),
        rotations=np.ascontiguousarray(rotations, np.float32),
        opacities=np.log(alpha / (1 - alpha)).astype(np.float32),
        sh_dc=((colour - 0.5) / SH_C0).astype(np.float32),
        sh_rest=(sh_rest if sh_rest is not None else np.zeros((len(positions), 0, 3), np.float32)),
    )
