"""GaussianSplats3D's ``.ksplat`` (format 0.1), compression levels 0, 1 and 2, SH degree 0-2.

Layout (see docs/splats.md in the shared docs): a 4096-byte main header, one 1024-byte
section header, then the section: at level >= 1 the lengths of the partially filled
buckets (u32) and every bucket's centre (f32x3), then the splat records bucket by bucket,
full buckets first. Buckets are 5.0-unit blocks of the positions' bounding box holding at
most 256 splats; a record's centre is stored as u16 offsets from its bucket's centre.

Vectorised: the bucket assignment is one stable sort; the records are gathered into bucket
order and written a block at a time (:func:`write_records`), so the writer holds only the
splats' fields, never a second copy of them.

Reading: :func:`read_ksplat` reads levels 0-2 back into a :class:`Splat`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatError, SplatFormatError
from spacesmith.tools.splat.formats.antimatter import rgba8, unit_quaternions
from spacesmith.tools.splat.model import Splat, alphas_of, splat_from_linear

MAIN_HEADER_BYTES = 4096
SECTION_HEADER_BYTES = 1024
BUCKET_SIZE = 256
BLOCK_SIZE = 5.0
SCALE_RANGE = 32767
DEFAULT_SH_HALF_RANGE = 1.5  # what the reader assumes when the header's min/max is 0
SH_COMPONENTS = {0: 0, 1: 9, 2: 24}
ROWS = 16384  # records encoded at a time: bounds the float64 temporaries


def record_dtype(level: int, sh_degree: int) -> np.dtype[np.void]:
    """The packed record of one splat at a compression level and SH degree."""
    n_sh = SH_COMPONENTS[sh_degree]
    if level == 0:
        fields = [("c", "<f4", 3), ("s", "<f4", 3), ("r", "<f4", 4), ("rgba", "u1", 4)]
        sh_type = "<f4"
    else:
        fields = [("c", "<u2", 3), ("s", "<f2", 3), ("r", "<f2", 4), ("rgba", "u1", 4)]
        sh_type = "<f2" if level == 1 else "u1"
    if n_sh:
        fields.append(("sh", sh_type, n_sh))
    return np.dtype(fields)  # type: ignore[arg-type]


def sh_components(splat: Splat) -> npt.NDArray[np.float32]:
    """SH bands 1-2 in record order: band 1 as R1..R3 G1..G3 B1..B3, then band 2 likewise."""
    rest = splat.sh_rest
    parts = []
    if rest.shape[1] >= 3:
        parts.append(rest[:, 0:3, :].transpose(0, 2, 1).reshape(-1, 9))
    if rest.shape[1] >= 8:
        parts.append(rest[:, 3:8, :].transpose(0, 2, 1).reshape(-1, 15))
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Layout:
    """Where each splat goes in a .ksplat section.

    ``rows[j]`` is the splat stored in record ``j`` (None: file order, level 0); the
    buckets' centres, the lengths of the partially filled ones, and how many are full.
    """

    rows: npt.NDArray[np.integer] | None  # type: ignore[type-arg]
    centres: npt.NDArray[np.float32]
    partial: npt.NDArray[np.uint32]
    full: int
    row_bucket: npt.NDArray[np.integer] | None  # type: ignore[type-arg]

    def bucket_data(self) -> bytes:
        if not len(self.centres):
            return b""
        return self.partial.astype("<u4").tobytes() + self.centres.astype("<f4").tobytes()


def layout(positions: npt.NDArray[np.float32], level: int) -> Layout:
    """The bucket layout of splats at ``positions`` (level >= 1), or file order (level 0)."""
    if level == 0:
        return Layout(None, np.zeros((0, 3), np.float32), np.zeros(0, np.uint32), 0, None)
    rows, centres, partial, full, row_bucket = _buckets(positions)
    return Layout(rows, centres, partial, full, row_bucket)


def _buckets(positions: npt.NDArray[np.float32]) -> tuple[
    npt.NDArray[np.integer], npt.NDArray[np.float32], npt.NDArray[np.uint32], int,  # type: ignore[type-arg]
    npt.NDArray[np.integer],  # type: ignore[type-arg]
]:
    """Assign splats to buckets.

    Returns:
        (row order, bucket centres (B, 3), partial bucket lengths, full bucket count,
        bucket index of each row in the new order).
    """
    n = positions.shape[0]
    lo = np.array([positions[:, i].min() for i in range(3)], np.float32)

    def block(i: int, rows: npt.NDArray[np.integer] | slice) -> npt.NDArray[np.floating]:  # type: ignore[type-arg]
        return np.asarray(np.floor((positions[rows, i] - lo[i]) / np.float32(BLOCK_SIZE)))

    dims, key = [], None
    for i in range(3):  # key = (bx * dims_y + by) * dims_z + bz, in as small a type as will do
        b = block(i, slice(None))
        dims.append(int(b.max()) + 1)
        if key is None:
            total = dims[0]
            key = b.astype(np.int32 if total < 2**31 else np.int64)
        else:
            total *= dims[i]
            if total >= 2**31 and key.dtype != np.int64:
                key = key.astype(np.int64)
            key *= dims[i]
            key += b.astype(key.dtype)
        del b
    assert key is not None
    if total <= 1 << 16:  # few blocks (a framed object): a radix sort, same stable order
        key = key.astype(np.uint16)
    index = np.int32 if n < 2**31 - 1 else np.intp
    order = np.argsort(key, kind="stable").astype(index)
    key = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    del key
    counts = np.diff(np.append(starts, n))
    n_full = counts // BUCKET_SIZE
    # rows of full buckets: the first 256 * n_full of each block, in sorted order
    edge = np.zeros(n + 1, np.int8)
    edge[starts] = 1
    np.subtract.at(edge, starts + n_full * BUCKET_SIZE, 1)
    is_full = np.cumsum(edge[:n], dtype=np.int8).view(np.bool_)
    del edge
    rows = np.empty(n, index)
    full_rows = int(np.count_nonzero(is_full))
    rows[:full_rows] = order[is_full]
    rows[full_rows:] = order[~is_full]
    del is_full
    partial = (counts % BUCKET_SIZE).astype(np.uint32)
    has_partial = partial > 0
    bucket_groups = np.concatenate((np.repeat(np.arange(len(starts)), n_full),
                                    np.flatnonzero(has_partial)))
    first = order[starts]
    del order
    block_of_group = np.column_stack([block(i, first).astype(np.int64) for i in range(3)])
    centres = (block_of_group[bucket_groups] * BLOCK_SIZE + lo + BLOCK_SIZE / 2).astype(np.float32)
    full_total = int(n_full.sum())
    # bucket index of each output row: full buckets hold 256 consecutive rows
    row_bucket = np.empty(n, index)
    row_bucket[:full_rows] = np.arange(full_rows) // BUCKET_SIZE
    row_bucket[full_rows:] = np.repeat(np.arange(full_total, len(bucket_groups)),
                                       partial[has_partial])
    return rows, centres, partial[has_partial], full_total, row_bucket


def _sh_range(sh: npt.NDArray[np.float32]) -> tuple[float, float]:
    return sh_range_of(float(sh.min()), float(sh.max()))


def sh_range_of(lo: float, hi: float) -> tuple[float, float]:
    """The level-2 SH range stored for SH values spanning [lo, hi]."""
    # a stored 0 means "use the default ±1.5" to the reader: never store an exact 0
    lo = min(lo, -1e-6) if lo == 0.0 or lo > 0 else lo
    hi = max(hi, 1e-6) if hi == 0.0 or hi < 0 else hi
    return lo, hi


def side_dtype(level: int, sh_degree: int) -> np.dtype[np.void]:
    """What a splat's record holds besides its centre and scale (rotation, colour, SH), as
    stored: kept in the input's order until the layout is known. At level 2 the SH stays
    float32 (its 8-bit range is the whole file's)."""
    rec = record_dtype(level, sh_degree)
    fields = [("r", rec["r"]), ("rgba", rec["rgba"])]
    if sh_degree:
        fields.append(("sh", np.dtype((np.float32, SH_COMPONENTS[sh_degree])) if level == 2
                       else rec["sh"]))
    return np.dtype(fields)


def encode_side(out: np.ndarray, splat: Splat) -> None:  # type: ignore[type-arg]
    """Fill rotation, colour and SH (``side_dtype``) of one row of ``out`` per splat."""
    out["r"] = unit_quaternions(splat)
    out["rgba"] = rgba8(splat)
    if splat.sh_degree:
        out["sh"] = sh_components(splat)


def alpha8_kept(opacities: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """The splats a .ksplat keeps: 8-bit alpha (floor(alpha * 255)) at least 1."""
    return np.asarray(np.clip(np.floor(alphas_of(opacities) * 255.0), 0, 255) >= 1, np.bool_)


def write_ksplat(splat: Splat, f: BinaryIO, *, level: int = 1) -> None:
    """Write ``splat`` as a .ksplat to an open binary file.

    Splats whose 8-bit alpha is 0 are dropped, as the reference generator does.

    Raises:
        SplatError: a level other than 0-2, SH degree 3, or no splat left to write.
    """
    if level not in (0, 1, 2):
        raise SplatError(f".ksplat compression level must be 0, 1 or 2, got {level}")
    if splat.sh_degree > 2:
        raise SplatError(".ksplat holds SH degree 0-2", hint="drop band 3 first")
    keep = alpha8_kept(splat.opacities)
    if not keep.all():
        splat = splat.take(keep)
    if splat.count == 0:
        raise SplatError(NOTHING_OPAQUE)
    side = np.empty(splat.count, side_dtype(level, splat.sh_degree))
    encode_side(side, splat)
    write_records(f, level, splat.sh_degree, splat.positions, splat.scales, side)


NOTHING_OPAQUE = "no splat is opaque enough for .ksplat (all 8-bit alphas are 0)"


def write_records(f: BinaryIO, level: int, degree: int, positions: npt.NDArray[np.float32],
                  scales: npt.NDArray[np.float32], side: np.ndarray) -> None:  # type: ignore[type-arg]
    """Write a whole .ksplat: headers, bucket data, then the records in bucket order,
    gathered and finished (centre, scale, 8-bit SH) a block of rows at a time.

    Args:
        f: the open output.
        level: compression level 0-2.
        degree: SH degree 0-2.
        positions: (N, 3) of the splats to write, in any order.
        scales: (N, 3) their log-scales.
        side: their rotations, colours and SH (:func:`side_dtype`, :func:`encode_side`).
    """
    n = positions.shape[0]
    sh_lo, sh_hi = (-DEFAULT_SH_HALF_RANGE, DEFAULT_SH_HALF_RANGE)
    if degree and level == 2:
        sh_lo, sh_hi = _sh_range(side["sh"])
    plan = layout(positions, level)
    dtype = record_dtype(level, degree)
    bucket_data = plan.bucket_data()
    f.write(_main_header(n, level, sh_lo, sh_hi))
    f.write(_section_header(n, level, degree, len(plan.centres), len(bucket_data)
                            + n * dtype.itemsize, plan.full, len(plan.partial)))
    f.write(bucket_data)
    out = np.empty(min(n, ROWS), dtype)
    for a in range(0, n, ROWS):
        b = min(n, a + ROWS)
        rows: npt.NDArray[np.integer] | slice = (  # type: ignore[type-arg]
            slice(a, b) if plan.rows is None else plan.rows[a:b])
        rec = out[:b - a]
        if plan.row_bucket is None:
            rec["c"] = positions[rows]
        else:
            # floor((p - centre) * 32767 / 2.5 + 0.5) + 32767 in float64, without temporaries
            q = positions[rows].astype(np.float64)
            q -= plan.centres[plan.row_bucket[a:b]]
            q *= SCALE_RANGE / (BLOCK_SIZE / 2)
            q += 0.5
            np.floor(q, out=q)
            q += SCALE_RANGE
            rec["c"] = np.clip(q, 0, 2 * SCALE_RANGE + 1, out=q)
        sc = np.exp(scales[rows])
        rec["s"] = np.minimum(sc, 65504.0, out=sc)
        part = side[rows]
        rec["r"] = part["r"]
        rec["rgba"] = part["rgba"]
        if degree:
            if level == 2:
                v = (np.clip(part["sh"], sh_lo, sh_hi) - sh_lo) / (sh_hi - sh_lo) * 255.0
                rec["sh"] = np.clip(np.floor(v), 0, 255)
            else:
                rec["sh"] = part["sh"]
        f.write(rec.data)


def _main_header(n: int, level: int, sh_lo: float, sh_hi: float) -> bytes:
    head = bytearray(MAIN_HEADER_BYTES)
    head[0], head[1] = 0, 1
    np.frombuffer(head, "<u4", 4, 4)[:] = (1, 1, n, n)
    np.frombuffer(head, "<u2", 1, 20)[0] = level
    np.frombuffer(head, "<f4", 5, 24)[:] = (0.0, 0.0, 0.0, sh_lo, sh_hi)
    return bytes(head)


def _section_header(n: int, level: int, degree: int, buckets: int, storage: int,
                    full: int, partial: int) -> bytes:
    head = bytearray(SECTION_HEADER_BYTES)
    u32 = np.frombuffer(head, "<u4")
    u16 = np.frombuffer(head, "<u2")
    u32[0], u32[1] = n, n
    if level >= 1:
        u32[2], u32[3] = BUCKET_SIZE, buckets
        np.frombuffer(head, "<f4")[4] = BLOCK_SIZE
        u16[10] = 12
        u32[6] = SCALE_RANGE
        u32[8], u32[9] = full, partial
    u32[7] = storage
    u16[20] = degree
    return bytes(head)


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
