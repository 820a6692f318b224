"""Rigid transforms of a splat: rotation, the Y-down -> Y-up flip, translation, uniform scale.

A :class:`Transform` is ``p -> scale * R @ p + translation`` with ``R`` a proper rotation;
transforms compose with ``@`` (``(a @ b)`` applies ``b`` first). Applying one to a splat
rotates positions, turns the quaternions (``q' = q_R ⊗ q``, Hamilton, w x y z), adds
``log(scale)`` to the log-scales and rotates the SH bands 1-3 with their real Wigner-D
matrices in the 3DGS basis (or drops them, on request). DC colour and opacity never change.

The SH matrices are solved numerically from the 3DGS basis functions themselves, so
they hold by construction: for the rotated coefficients c' = D c,
``Y(d) · c' == Y(R^T d) · c`` for every direction d.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatError
from spacesmith.tools.splat.model import Splat

F64 = npt.NDArray[np.float64]

SH_C1 = 0.4886025119029199
SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005,
         -1.0925484305920792, 0.5462742152960396)
SH_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
         -0.4570457994644658, 1.445305721320277, -0.5900435899266435)

# Y-down -> Y-up: 180° about X. Exact per-coefficient signs of bands 1, 2, 3.
FLIP_SH_SIGNS = np.array([-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1], np.float32)


def sh_basis(dirs: F64, band: int) -> F64:
    """The 3DGS real SH basis of one band (1-3) at unit directions (N, 3) -> (N, 2*band+1)."""
    x, y, z = dirs[:, 0], dirs[:, 1], dirs[:, 2]
    if band == 1:
        return SH_C1 * np.column_stack((-y, z, -x))
    xx, yy, zz = x * x, y * y, z * z
    if band == 2:
        c2 = SH_C2
        return np.column_stack((c2[0] * x * y, c2[1] * y * z, c2[2] * (2 * zz - xx - yy),
                                c2[3] * x * z, c2[4] * (xx - yy)))
    if band == 3:
        c = SH_C3
        return np.column_stack((
            c[0] * y * (3 * xx - yy), c[1] * x * y * z, c[2] * y * (4 * zz - xx - yy),
            c[3] * z * (2 * zz - 3 * xx - 3 * yy), c[4] * x * (4 * zz - xx - yy),
            c[5] * z * (xx - yy), c[6] * x * (xx - 3 * yy),
        ))
    raise SplatError(f"SH band must be 1..3, got {band}")


@lru_cache(maxsize=1)
def _sample_dirs() -> F64:
    d = np.random.default_rng(12345).normal(size=(64, 3))
    return np.asarray(d / np.linalg.norm(d, axis=1, keepdims=True), np.float64)


def sh_rotation(matrix: F64, band: int) -> F64:
    """The (2l+1)x(2l+1) matrix D with ``c' = D @ c`` for coefficients of one band.

    Args:
        matrix: a 3x3 proper rotation R (positions turn as p' = R p).
        band: 1, 2 or 3.
    """
    dirs = _sample_dirs()
    before = sh_basis(dirs, band)  # Y(d)
    after = sh_basis(dirs @ np.asarray(matrix), band)  # Y(R^T d), rows are d^T R = (R^T d)^T
    # after = before @ M^T  =>  solve for M^T; then c' = M^T c
    mt, *_ = np.linalg.lstsq(before, after, rcond=None)
    d = np.asarray(mt, np.float64)
    d[np.abs(d) < 1e-12] = 0.0
    return d


def quaternion_from_matrix(m: F64) -> F64:
    """Unit quaternion (w, x, y, z) of a 3x3 rotation matrix (Shepperd's method)."""
    m = np.asarray(m, np.float64)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    out = np.array(q, np.float64)
    return np.asarray(out / np.linalg.norm(out), np.float64)


def matrix_from_quaternion(q: F64) -> F64:
    """3x3 rotation matrix of a quaternion (w, x, y, z); it need not be unit length."""
    w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def quaternion_multiply(a: F64, b: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:  # type: ignore[type-arg]
    """Hamilton product ``a ⊗ b`` of one quaternion ``a`` and an array ``b`` (N, 4), w x y z."""
    aw, ax, ay, az = (float(v) for v in a)
    bw, bx, by, bz = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.column_stack((
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ))


def euler_matrix(x_deg: float, y_deg: float, z_deg: float) -> F64:
    """Rotation by Euler angles in degrees: about X first, then Y, then Z (fixed axes),
    i.e. ``R = Rz @ Ry @ Rx`` (the convention of ``splat-transform -r x,y,z``)."""
    ax, ay, az = np.radians([x_deg, y_deg, z_deg])
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return np.asarray(rz @ ry @ rx, np.float64)


@dataclass(frozen=True)
class Transform:
    """``p -> scale * rotation @ p + translation``; compose with ``a @ b`` (b first)."""

    rotation: F64 = field(default_factory=lambda: np.eye(3))
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0

    def __post_init__(self) -> None:
        r = np.asarray(self.rotation, np.float64)
        if r.shape != (3, 3) or not np.allclose(r @ r.T, np.eye(3), atol=1e-5):
            raise SplatError("a rotation must be an orthonormal 3x3 matrix")
        if np.linalg.det(r) < 0:
            raise SplatError("a mirror is not a rotation; splats can only be turned, not mirrored")
        if not (self.scale > 0 and np.isfinite(self.scale)):
            raise SplatError(f"scale must be a positive number, got {self.scale}")
        object.__setattr__(self, "rotation", r)

    @classmethod
    def rotate(cls, x_deg: float = 0.0, y_deg: float = 0.0, z_deg: float = 0.0) -> Transform:
        """A rotation by Euler angles in degrees (see :func:`euler_matrix`)."""
        return cls(rotation=euler_matrix(x_deg, y_deg, z_deg))

    @classmethod
    def flip_y(cls) -> Transform:
        """Y-down -> Y-up: 180° about X, (x, y, z) -> (x, -y, -z)."""
        return cls(rotation=np.diag([1.0, -1.0, -1.0]))

    def __matmul__(self, other: Transform) -> Transform:
        r = self.rotation @ other.rotation
        t = self.scale * (self.rotation @ np.asarray(other.translation)) + np.asarray(
            self.translation)
        return Transform(rotation=r, translation=(float(t[0]), float(t[1]), float(t[2])),
                         scale=self.scale * other.scale)

    @property
    def is_identity_rotation(self) -> bool:
        return bool(np.array_equal(self.rotation, np.eye(3)))


def apply(splat: Splat, transform: Transform, *, drop_sh: bool = False) -> Splat:
    """Apply ``transform`` to every splat.

    Args:
        splat: the splats.
        transform: rotation, translation and uniform scale.
        drop_sh: drop SH bands >= 1 instead of rotating them.

    Returns:
        A new Splat.
    """
    rest = splat.sh_rest if not drop_sh else np.zeros((splat.count, 0, 3), np.float32)
    rotations, rest = transform_orientation(splat.rotations, rest, transform)
    return Splat(
        positions=transform_positions(splat.positions, transform),
        scales=transform_scales(splat.scales, transform),
        rotations=rotations,
        opacities=splat.opacities,
        sh_dc=splat.sh_dc,
        sh_rest=rest,
    )


def transform_positions(positions: npt.NDArray[np.float32], transform: Transform, *,
                        inplace: bool = False) -> npt.NDArray[np.float32]:
    """Positions (N, 3) under ``transform``; ``inplace`` overwrites ``positions`` (same values,
    no temporaries except for a general rotation)."""
    r = transform.rotation
    if inplace:
        p = positions
        if _is_flip(r):
            p *= np.array([1, -1, -1], np.float32)
        elif not transform.is_identity_rotation:
            p[...] = p @ r.T.astype(np.float32)
        if transform.scale != 1.0:
            p *= np.float32(transform.scale)
        if any(transform.translation):
            p += np.asarray(transform.translation, np.float32)
        return p
    if _is_flip(r):
        p = positions * np.array([1, -1, -1], np.float32)
    elif transform.is_identity_rotation:
        p = positions
    else:
        p = positions @ r.T.astype(np.float32)
    if transform.scale != 1.0:
        p = p * np.float32(transform.scale)
    if any(transform.translation):
        p = p + np.asarray(transform.translation, np.float32)
    return np.ascontiguousarray(p, np.float32)


def transform_scales(scales: npt.NDArray[np.float32], transform: Transform, *,
                     inplace: bool = False) -> npt.NDArray[np.float32]:
    """Log-scales under ``transform``: ``log(scale)`` added (``inplace``: to ``scales``)."""
    if transform.scale != 1.0:
        if inplace:
            scales += np.float32(np.log(transform.scale))
            return scales
        return np.asarray(scales + np.float32(np.log(transform.scale)), np.float32)
    return scales


def transform_orientation(
    rotations: npt.NDArray[np.float32], rest: npt.NDArray[np.float32], transform: Transform
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Quaternions (N, 4) and SH rest coefficients (N, K, 3) under ``transform``'s rotation."""
    r = transform.rotation
    if _is_flip(r):
        q = rotations
        rotations = np.column_stack((-q[:, 1], q[:, 0], -q[:, 3], q[:, 2]))
        rest = rest * FLIP_SH_SIGNS[: rest.shape[1], None] if rest.shape[1] else rest
    elif not transform.is_identity_rotation:
        rotations = quaternion_multiply(quaternion_from_matrix(r), rotations)
        rest = rotate_sh(rest, r)
    return (np.ascontiguousarray(rotations, np.float32), np.ascontiguousarray(rest, np.float32))


def rotate_sh(rest: npt.NDArray[np.float32], r: F64) -> npt.NDArray[np.float32]:
    """Rotate SH rest coefficients (N, K, 3) by the 3x3 rotation ``r``."""
    k = rest.shape[1]
    if k == 0:
        return rest
    out = np.empty_like(rest)
    for band in range(1, 4):
        lo, hi = band * band - 1, (band + 1) * (band + 1) - 1
        if hi > k:
            break
        d = sh_rotation(r, band).astype(np.float32)
        out[:, lo:hi, :] = np.matmul(d, rest[:, lo:hi, :])
    return out


def _is_flip(r: F64) -> bool:
    return bool(np.array_equal(r, np.diag([1.0, -1.0, -1.0])))


def flip_y(splat: Splat) -> Splat:
    """Turn a Y-down splat Y-up (180° about X); exact, SH signs per docs/splats.md."""
    return apply(splat, Transform.flip_y())


def rotate(splat: Splat, x_deg: float = 0.0, y_deg: float = 0.0, z_deg: float = 0.0, *,
           drop_sh: bool = False) -> Splat:
    """Rotate by Euler angles in degrees (X, then Y, then Z about fixed axes)."""
    return apply(splat, Transform.rotate(x_deg, y_deg, z_deg), drop_sh=drop_sh)


def translate(splat: Splat, offset: tuple[float, float, float]) -> Splat:
    """Move every splat by ``offset``."""
    return apply(splat, Transform(translation=offset))


def scale(splat: Splat, factor: float) -> Splat:
    """Scale uniformly about the origin by ``factor`` (> 0)."""
    return apply(splat, Transform(scale=factor))
