"""Niantic's ``.spz`` version 3: a gzip stream of a 16-byte header and attribute blocks.

Header: u32 magic 0x5053474e ("NGSP"), u32 version 3, u32 count, u8 SH degree,
u8 fractional bits (12), u8 flags (0), u8 0. Then, for all splats in turn: positions
(24-bit signed fixed point), alphas (u8), colours (u8, f_dc*0.15*255 + 127.5), scales
(u8, (log sigma + 10)*16), rotations ("smallest three" in a u32), SH (u8, x*128 + 128,
5 bits kept for band 1 and 4 above, coefficient-major with RGB inside).
Coordinates are stored as they are (the PLY's frame), as splat-transform and Spark read them.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from tools.splat.model import Splat
from tools.splat.writers.antimatter import unit_quaternions

MAGIC = 0x5053474E
VERSION = 3
FRACTIONAL_BITS = 12
COLOR_SCALE = 0.15
GZIP_LEVEL = 6


def _u8(v: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:  # type: ignore[type-arg]
    return np.asarray(np.clip(np.rint(v), 0, 255), np.uint8)


def pack_positions(positions: npt.NDArray[np.float32]) -> bytes:
    fixed = np.rint(positions.astype(np.float64) * (1 << FRACTIONAL_BITS))
    fixed = np.clip(fixed, -(1 << 23), (1 << 23) - 1).astype("<i4")
    return fixed.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def pack_rotations(q_wxyz: npt.NDArray[np.float32]) -> bytes:
    """Smallest-three: 2 bits index of the largest |component| of (x, y, z, w), then three
    10-bit fields (sign bit + 9-bit magnitude / sqrt(1/2)) of the others in order."""
    q = q_wxyz[:, [1, 2, 3, 0]]
    largest = np.argmax(np.abs(q), axis=1)
    n = q.shape[0]
    sign = np.where(q[np.arange(n), largest] < 0, -1.0, 1.0).astype(np.float32)
    q = q * sign[:, None]
    packed = np.zeros(n, np.uint32)
    for i in range(4):
        comp = q[:, i]
        mag = np.clip(np.rint(np.abs(comp) * (511 / np.sqrt(0.5))), 0, 511).astype(np.uint32)
        field = mag | (comp < 0).astype(np.uint32) << 9
        use = largest != i
        packed = np.where(use, (packed << 10) | field, packed)
    packed |= largest.astype(np.uint32) << 30
    return packed.astype("<u4").tobytes()


def pack_sh(rest: npt.NDArray[np.float32]) -> bytes:
    n, k, _ = rest.shape
    q = np.clip(np.rint(rest.astype(np.float32) * 128.0) + 128.0, 0, 255)
    bucket = np.full((1, k, 1), 16.0, np.float32)
    bucket[:, :3] = 8.0  # band 1 keeps 5 bits
    q = np.floor((q + bucket / 2) / bucket) * bucket
    return bytes(np.clip(q, 0, 255).astype(np.uint8).reshape(n, 3 * k).data)


def spz_payload_parts(splat: Splat) -> list[bytes]:
    """The uncompressed spz v3 payload, block by block."""
    header = np.array([MAGIC, VERSION, splat.count], "<u4").tobytes()
    header += bytes([splat.sh_degree, FRACTIONAL_BITS, 0, 0])
    parts = [
        header,
        pack_positions(splat.positions),
        _u8(splat.alphas() * 255.0).tobytes(),
        _u8(splat.sh_dc * (COLOR_SCALE * 255.0) + 127.5).tobytes(),
        _u8((splat.scales + 10.0) * 16.0).tobytes(),
        pack_rotations(unit_quaternions(splat)),
    ]
    if splat.sh_degree:
        parts.append(pack_sh(splat.sh_rest))
    return parts


def write_spz(splat: Splat, f: BinaryIO, *, level: int = GZIP_LEVEL) -> None:
    """Write ``splat`` as spz version 3 (gzip) to an open binary file."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    for part in spz_payload_parts(splat):
        f.write(comp.compress(part))
    f.write(comp.flush())
