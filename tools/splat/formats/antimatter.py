"""The antimatter15 ``.splat``: 32 bytes a splat, no header, no SH.

f32x3 position, f32x3 linear scale, u8 RGBA, u8x4 rotation (w, x, y, z) as q*128 + 128.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from spacesmith.tools.errors import SplatFormatError
from spacesmith.tools.splat.model import Splat, splat_from_linear

SPLAT_DTYPE = np.dtype(
    [("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)]
)


def rgba8(splat: Splat) -> np.ndarray:  # type: ignore[type-arg]
    """8-bit RGBA by truncation, as the web formats store it: floor(value * 255)."""
    out = np.empty((splat.count, 4), np.uint8)
    out[:, :3] = np.clip(np.floor(splat.colors() * 255.0), 0, 255)
    out[:, 3] = np.clip(np.floor(splat.alphas() * 255.0), 0, 255)
    return out


def unit_quaternions(splat: Splat) -> np.ndarray:  # type: ignore[type-arg]
    """Rotations normalised to unit length (a zero quaternion becomes the identity)."""
    q = splat.rotations.astype(np.float32)
    norm = np.sqrt(np.einsum("ij,ij->i", q, q))
    zero = norm < 1e-12
    q = (q / np.where(zero, 1.0, norm)[:, None]).astype(np.float32)
    q[zero] = (1.0, 0.0, 0.0, 0.0)
    return q


def write_antimatter(splat: Splat, f: BinaryIO) -> None:
    """Write ``splat`` as an antimatter15 ``.splat`` to an open binary file."""
    rec = np.empty(splat.count, SPLAT_DTYPE)
    rec["pos"] = splat.positions
    rec["scale"] = np.exp(splat.scales)
    rec["rgba"] = rgba8(splat)
    rec["rot"] = np.clip(np.round(unit_quaternions(splat) * 128.0 + 128.0), 0, 255)
    f.write(rec.data)


SPLAT_DTYPE = np.dtype(
    [("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)]
)


def read_antimatter_splat(path: Path) -> Splat:
    """Read an antimatter15 ``.splat`` (32 bytes a splat, no header).

    Raises:
        SplatFormatError: the size is not a multiple of 32 bytes.
    """
    size = path.stat().st_size
    if size % SPLAT_DTYPE.itemsize:
        raise SplatFormatError(
            f"{path}: {size} bytes is not a whole number of 32-byte .splat records (truncated?)"
        )
    rec = np.fromfile(path, SPLAT_DTYPE)
    return splat_from_linear(
        positions=rec["pos"],
        linear_scales=rec["scale"],
        rotations=(rec["rot"].astype(np.float32) - 128.0) / 128.0,
        rgba=rec["rgba"],
    )
