"""Niantic's ``.spz`` version 3: a gzip stream of a 16-byte header and attribute blocks.

Header: u32 magic 0x5053474e ("NGSP"), u32 version 3, u32 count, u8 SH degree,
u8 fractional bits (12), u8 flags (0), u8 0. Then, for all splats in turn: positions
(24-bit signed fixed point), alphas (u8), colours (u8, f_dc*0.15*255 + 127.5), scales
(u8, (log sigma + 10)*16), rotations ("smallest three" in a u32), SH (u8, x*128 + 128,
5 bits kept for band 1 and 4 above, coefficient-major with RGB inside).
Coordinates are stored as they are (the PLY's frame), as splat-transform and Spark read them.

Reading: :func:`read_spz` reads versions 2 and 3.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatFormatError
from spacesmith.tools.splat.formats.antimatter import unit_quaternions
from spacesmith.tools.splat.formats.gz import BYTES, LZ, ParallelGzip, Stream
from spacesmith.tools.splat.model import SH_COUNTS, Splat, alphas_of

MAGIC = 0x5053474E
VERSION = 3
FRACTIONAL_BITS = 12
COLOR_SCALE = 0.15
GZIP_LEVEL = 6  # the reference writer's zlib level (used when a level is forced)
ROWS = 16384  # rows encoded at a time: bounds the float64 temporaries


def _u8(v: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:  # type: ignore[type-arg]
    return np.asarray(np.clip(np.rint(v), 0, 255), np.uint8)


def header_bytes(count: int, sh_degree: int) -> bytes:
    """The 16-byte spz v3 header."""
    return (np.array([MAGIC, VERSION, count], "<u4").tobytes()
            + bytes([sh_degree, FRACTIONAL_BITS, 0, 0]))


U8 = npt.NDArray[np.uint8]


def pack_positions(positions: npt.NDArray[np.float32]) -> U8:
    """24-bit signed fixed point, 12 fractional bits, x y z of each splat."""
    out = np.empty((positions.shape[0], 3, 3), np.uint8)
    for a in range(0, positions.shape[0], ROWS):
        fixed = np.rint(positions[a:a + ROWS].astype(np.float64) * (1 << FRACTIONAL_BITS))
        fixed = np.clip(fixed, -(1 << 23), (1 << 23) - 1).astype("<i4")
        out[a:a + ROWS] = fixed.view(np.uint8).reshape(-1, 3, 4)[:, :, :3]
    return out


def pack_alphas(opacities: npt.NDArray[np.float32]) -> U8:
    """u8 round(alpha * 255)."""
    out = np.empty(opacities.shape[0], np.uint8)
    for a in range(0, opacities.shape[0], ROWS):
        out[a:a + ROWS] = _u8(alphas_of(opacities[a:a + ROWS]) * 255.0)
    return out


def pack_colors(sh_dc: npt.NDArray[np.float32]) -> U8:
    """u8 round(f_dc * 0.15 * 255 + 127.5)."""
    return _u8(sh_dc * (COLOR_SCALE * 255.0) + 127.5)


def pack_scales(scales: npt.NDArray[np.float32]) -> U8:
    """u8 round((log sigma + 10) * 16)."""
    out = np.empty(scales.shape, np.uint8)
    for a in range(0, scales.shape[0], ROWS):
        out[a:a + ROWS] = _u8((scales[a:a + ROWS] + 10.0) * 16.0)
    return out


def pack_rotations(q_wxyz: npt.NDArray[np.float32]) -> npt.NDArray[np.uint32]:
    """Smallest-three: 2 bits index of the largest |component| of (x, y, z, w), then three
    10-bit fields (sign bit + 9-bit magnitude / sqrt(1/2)) of the others in order."""
    cols = (q_wxyz[:, 1], q_wxyz[:, 2], q_wxyz[:, 3], q_wxyz[:, 0])  # x y z w
    mags = [np.abs(c) for c in cols]
    # argmax of the magnitudes without a reduction over a 4-wide axis (numpy's slow case):
    # the larger of each pair, then of the pairs; ties go to the first, as argmax does
    hi01, hi23 = mags[1] > mags[0], mags[3] > mags[2]
    second = np.maximum(mags[2], mags[3]) > np.maximum(mags[0], mags[1])
    largest = np.where(second, hi23.view(np.uint8) + np.uint8(2), hi01.view(np.uint8))
    negative = [c < 0 for c in cols]
    # the largest component is made positive: every sign flips if it is negative
    flip = np.zeros(q_wxyz.shape[0], np.bool_)
    for i in range(4):
        flip |= negative[i] & (largest == i)
    largest = largest.astype(np.uint32)
    packed = largest << 30
    scale = 511 / np.sqrt(0.5)
    for i in range(4):
        mag = mags[i] * scale  # float64, as numpy computes it
        np.rint(mag, out=mag)
        np.clip(mag, 0, 511, out=mag)
        field = mag.astype(np.uint32)
        sign = (negative[i] ^ flip) & (cols[i] != 0)  # of q_i * (flip ? -1 : 1)
        field |= sign.astype(np.uint32) << 9
        field *= largest != i
        # the three others in order, the first in the highest bits
        shift = np.uint32(10 * (3 - i)) - np.uint32(10) * (largest > i)
        packed |= field << shift
    return packed.astype("<u4")


def _sh_lut(bucket: int) -> npt.NDArray[np.uint8]:
    q = np.arange(256)
    return np.asarray(np.minimum((q + bucket // 2) // bucket * bucket, 255), np.uint8)


SH_LUT_BAND1 = _sh_lut(8)  # 5 bits
SH_LUT_REST = _sh_lut(16)  # 4 bits


def pack_sh(rest: npt.NDArray[np.float32]) -> U8:
    """u8 round(x * 128) + 128 kept to 5 bits (band 1) or 4 bits (bands 2-3), coefficient-major
    with RGB inside."""
    n, k, _ = rest.shape
    v = rest * np.float32(128.0)
    np.rint(v, out=v)
    v += np.float32(128.0)
    np.clip(v, 0, 255, out=v)
    q = v.astype(np.uint8)
    out = np.empty((n, k, 3), np.uint8)
    out[:, :3] = SH_LUT_BAND1[q[:, :3]]
    if k > 3:
        out[:, 3:] = SH_LUT_REST[q[:, 3:]]
    return out


def spz_payload_parts(splat: Splat) -> list[bytes]:
    """The uncompressed spz v3 payload, block by block."""
    parts = [
        header_bytes(splat.count, splat.sh_degree),
        pack_positions(splat.positions).tobytes(),
        pack_alphas(splat.opacities).tobytes(),
        pack_colors(splat.sh_dc).tobytes(),
        pack_scales(splat.scales).tobytes(),
        pack_rotations(unit_quaternions(splat)).tobytes(),
    ]
    if splat.sh_degree:
        parts.append(pack_sh(splat.sh_rest).tobytes())
    return parts


def rows(splat: Splat, start: int, stop: int) -> Splat:
    """Rows ``start:stop`` of ``splat`` as views (no copy)."""
    sl = slice(start, stop)
    return Splat(splat.positions[sl], splat.scales[sl], splat.rotations[sl],
                 splat.opacities[sl], splat.sh_dc[sl], splat.sh_rest[sl])


class SpzStreams:
    """The six attribute streams of an spz v3 file, fillable in any order, chunk by chunk.

    ``level=None`` compresses each stream with the deflate strategy that suits it (see
    :mod:`spacesmith.tools.splat.formats.gz`); an integer forces plain zlib at that level
    everywhere.
    """

    def __init__(self, *, level: int | None = None, workers: int | None = None) -> None:
        if workers is None:
            workers = min(2, os.cpu_count() or 1)
        self.gz = ParallelGzip(workers=workers)
        lz = LZ if level is None else ((level, zlib.Z_DEFAULT_STRATEGY),)
        other = BYTES if level is None else lz
        self.positions: Stream = self.gz.stream(lz)  # the header goes first, in here
        self.alphas = self.gz.stream(other)
        self.colors = self.gz.stream(other)
        self.scales = self.gz.stream(other)
        self.rotations = self.gz.stream(other)
        self.sh = self.gz.stream(other)

    def add_chunk(self, splat: Splat, *, positions: bool = True) -> None:
        """Encode the splats of ``splat`` (next in order) into every stream."""
        if positions:
            self.positions.write(pack_positions(splat.positions))
            self.alphas.write(pack_alphas(splat.opacities))
            self.scales.write(pack_scales(splat.scales))
        self.colors.write(pack_colors(splat.sh_dc))
        self.rotations.write(pack_rotations(unit_quaternions(splat)))
        if splat.sh_degree:
            self.sh.write(pack_sh(splat.sh_rest))

    def write_to(self, f: BinaryIO) -> None:
        self.gz.write_to(f)

    def close(self) -> None:
        self.gz.close()


def write_spz(splat: Splat, f: BinaryIO, *, level: int | None = None) -> None:
    """Write ``splat`` as spz version 3 (gzip) to an open binary file.

    ``level``: None picks a deflate strategy per attribute stream (smaller and faster than
    zlib's default); an integer forces plain zlib at that level (the reference writer: 6).
    """
    streams = SpzStreams(level=level)
    try:
        streams.positions.write(header_bytes(splat.count, splat.sh_degree))
        for a in range(0, splat.count, ROWS):
            streams.add_chunk(rows(splat, a, a + ROWS))
        streams.write_to(f)
    finally:
        streams.close()


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
