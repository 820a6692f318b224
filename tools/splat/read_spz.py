"""Read Niantic ``.spz`` versions 2 and 3 (gzip) into a :class:`Splat`."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatFormatError
from spacesmith.tools.splat.model import SH_COUNTS, Splat
from spacesmith.tools.splat.writers.spz import COLOR_SCALE, MAGIC


def read_spz(path: Path) -> Splat:
    """Read a ``.spz`` file (version 2 or 3).

    Raises:
        SplatFormatError: not gzip, wrong magic, unsupported version or truncated.
    """
    where = str(path)
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise SplatFormatError(f"{where}: not a gzip .spz ({exc})") from exc
    if len(data) < 16:
        raise SplatFormatError(f"{where}: .spz is shorter than its 16-byte header")
    magic, version, n = np.frombuffer(data, "<u4", 3)
    degree, frac = data[12], data[13]
    if magic != MAGIC:
        raise SplatFormatError(f"{where}: not an .spz (magic {int(magic):#x}, want 0x5053474e)")
    if version not in (2, 3):
        raise SplatFormatError(f"{where}: .spz version {int(version)} is not supported (2 or 3)")
    if degree > 3:
        raise SplatFormatError(f"{where}: .spz SH degree {degree} is not supported (0-3)")
    n = int(n)
    k = SH_COUNTS[degree]
    rot_bytes = 3 if version == 2 else 4
    sizes = [9 * n, n, 3 * n, 3 * n, rot_bytes * n, 3 * k * n]
    if len(data) < 16 + sum(sizes):
        raise SplatFormatError(f"{where}: truncated .spz: {n} splats need {16 + sum(sizes)} bytes")
    blocks = []
    off = 16
    for size in sizes:
        blocks.append(np.frombuffer(data, np.uint8, size, off))
        off += size
    pos_b, alpha_b, col_b, scale_b, rot_b, sh_b = blocks
    p24 = np.zeros((n * 3, 4), np.uint8)
    p24[:, :3] = pos_b.reshape(-1, 3)
    signed = p24.view("<i4").reshape(n, 3)
    signed = np.where(signed >= 1 << 23, signed - (1 << 24), signed)
    positions = (signed / float(1 << frac)).astype(np.float32)
    rotations = _rotations_v2(rot_b, n) if version == 2 else _rotations_v3(rot_b, n)
    alpha = np.clip(alpha_b.astype(np.float64) / 255.0, 1e-6, 1 - 1e-6)
    sh = (sh_b.reshape(n, k, 3).astype(np.float32) - 128.0) / 128.0
    return Splat(
        positions=positions,
        scales=(scale_b.reshape(n, 3).astype(np.float32) / 16.0 - 10.0),
        rotations=rotations,
        opacities=np.log(alpha / (1 - alpha)).astype(np.float32),
        sh_dc=((col_b.reshape(n, 3).astype(np.float32) / 255.0 - 0.5) / COLOR_SCALE),
        sh_rest=sh,
    )


def _rotations_v2(raw: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.float32]:
    xyz = raw.reshape(n, 3).astype(np.float32) / 127.5 - 1.0
    w = np.sqrt(np.maximum(0.0, 1.0 - (xyz**2).sum(axis=1)))
    return np.column_stack((w, xyz)).astype(np.float32)


def _rotations_v3(raw: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.float32]:
    packed = raw.view("<u4").astype(np.uint32)
    largest = packed >> 30
    q = np.zeros((n, 4), np.float32)  # x, y, z, w
    for i in (3, 2, 1, 0):
        use = largest != i
        mag = (packed & 511).astype(np.float32) * np.float32(np.sqrt(0.5) / 511)
        val = np.where((packed >> 9) & 1, -mag, mag)
        q[:, i] = np.where(use, val, 0.0)
        packed = np.where(use, packed >> 10, packed)
    rest = (q**2).sum(axis=1)
    q[np.arange(n), largest] = np.sqrt(np.maximum(0.0, 1.0 - rest))
    return np.asarray(q[:, [3, 0, 1, 2]], np.float32)
