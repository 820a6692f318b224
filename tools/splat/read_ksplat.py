"""Read GaussianSplats3D ``.ksplat`` files (format 0.1, levels 0-2) into a :class:`Splat`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatFormatError
from spacesmith.tools.splat.model import Splat, splat_from_linear
from spacesmith.tools.splat.writers.ksplat import (
    DEFAULT_SH_HALF_RANGE,
    MAIN_HEADER_BYTES,
    SECTION_HEADER_BYTES,
    record_dtype,
)


def read_ksplat(path: Path) -> Splat:
    """Read every section of a ``.ksplat`` file.

    Raises:
        SplatFormatError: wrong version, unknown level or SH degree, or truncated.
    """
    where = str(path)
    data = path.read_bytes()
    if len(data) < MAIN_HEADER_BYTES:
        raise SplatFormatError(f"{where}: shorter than the 4096-byte .ksplat header")
    major, minor = data[0], data[1]
    if (major, minor) != (0, 1):
        raise SplatFormatError(f"{where}: .ksplat version {major}.{minor} is not supported (0.1)")
    _max_sections, sections = (int(v) for v in np.frombuffer(data, "<u4", 2, 4))
    level = int(np.frombuffer(data, "<u2", 1, 20)[0])
    sh_lo, sh_hi = (float(v) for v in np.frombuffer(data, "<f4", 2, 36))
    sh_lo = sh_lo or -DEFAULT_SH_HALF_RANGE
    sh_hi = sh_hi or DEFAULT_SH_HALF_RANGE
    if level not in (0, 1, 2):
        raise SplatFormatError(f"{where}: unknown .ksplat compression level {level}")
    base = MAIN_HEADER_BYTES + _max_sections * SECTION_HEADER_BYTES
    parts: list[Splat] = []
    for s in range(sections):
        head = MAIN_HEADER_BYTES + s * SECTION_HEADER_BYTES
        if len(data) < head + SECTION_HEADER_BYTES:
            raise SplatFormatError(f"{where}: truncated .ksplat section header {s}")
        parts.append(_section(data, head, base, level, sh_lo, sh_hi, where))
        base += int(np.frombuffer(data, "<u4", 1, head + 28)[0])
    if not parts:
        raise SplatFormatError(f"{where}: the file holds zero splats")
    if len(parts) == 1:
        return parts[0]
    return Splat(*(np.concatenate([getattr(p, name) for p in parts])  # type: ignore[arg-type]
                   for name in ("positions", "scales", "rotations", "opacities", "sh_dc",
                                "sh_rest")))


def _section(data: bytes, head: int, base: int, level: int, sh_lo: float, sh_hi: float,
             where: str) -> Splat:
    u32 = np.frombuffer(data, "<u4", 10, head)
    n, bucket_size, bucket_count = int(u32[0]), int(u32[2]), int(u32[3])
    block = float(np.frombuffer(data, "<f4", 1, head + 16)[0])
    scale_range = int(u32[6])
    full, partial = int(u32[8]), int(u32[9])
    degree = int(np.frombuffer(data, "<u2", 1, head + 40)[0])
    if degree > 2:
        raise SplatFormatError(f"{where}: .ksplat SH degree {degree} is not supported (0-2)")
    dtype = record_dtype(level, degree)
    off = base
    centres = np.zeros((0, 3), np.float32)
    lengths = np.zeros(0, np.int64)
    if level >= 1:
        need = off + partial * 4 + bucket_count * 12
        if len(data) < need:
            raise SplatFormatError(f"{where}: truncated .ksplat bucket data")
        lengths = np.frombuffer(data, "<u4", partial, off).astype(np.int64)
        centres = np.frombuffer(data, "<f4", bucket_count * 3, off + partial * 4).reshape(-1, 3)
        off = need
    if len(data) < off + n * dtype.itemsize:
        raise SplatFormatError(f"{where}: truncated .ksplat: {n} splats need "
                               f"{off + n * dtype.itemsize} bytes, the file has {len(data)}")
    rec = np.frombuffer(data, dtype, n, off)
    if level == 0:
        positions = rec["c"].astype(np.float32)
    else:
        if full + partial != bucket_count:
            raise SplatFormatError(f"{where}: .ksplat bucket counts do not add up "
                                   f"({full} full + {partial} partial != {bucket_count})")
        ends = np.cumsum(np.concatenate((np.full(full, bucket_size, np.int64), lengths)))
        if n and (not len(ends) or ends[-1] < n):
            raise SplatFormatError(f"{where}: .ksplat buckets hold fewer than its {n} splats")
        bucket = np.searchsorted(ends, np.arange(n), side="right")  # no per-slot array
        factor = (block / 2.0) / scale_range
        positions = ((rec["c"].astype(np.float32) - scale_range) * np.float32(factor)
                     + centres[bucket]).astype(np.float32)
    return splat_from_linear(
        positions=positions,
        linear_scales=rec["s"].astype(np.float32),
        rotations=rec["r"].astype(np.float32),
        rgba=rec["rgba"],
        sh_rest=_sh(rec, level, degree, sh_lo, sh_hi),
    )


def _sh(rec: npt.NDArray[np.void], level: int, degree: int, lo: float,
        hi: float) -> npt.NDArray[np.float32]:
    n = rec.shape[0]
    if degree == 0:
        return np.zeros((n, 0, 3), np.float32)
    raw = rec["sh"].astype(np.float32)
    if level == 2:
        raw = raw / 255.0 * (hi - lo) + lo
    bands = [raw[:, 0:9].reshape(n, 3, 3).transpose(0, 2, 1)]
    if degree == 2:
        bands.append(raw[:, 9:24].reshape(n, 3, 5).transpose(0, 2, 1))
    return np.ascontiguousarray(np.concatenate(bands, axis=1), np.float32)
