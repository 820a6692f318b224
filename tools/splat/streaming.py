"""The convert pipeline for a PLY going to .ksplat or .spz, streamed: low memory, fast.

It gives exactly the bytes, camera, stats and counts of the in-memory pipeline in
:mod:`spacesmith.tools.splat.convert` (the tests compare them), without ever holding the cloud:

- the PLY body is read in chunks of rows into one reusable buffer;
- each chunk is pruned at once (non-finite, faint, degenerate: all per-splat tests), the
  SH bands cut, the flip/rotation applied to its quaternions and SH;
- positions, opacities, log-scales and the largest log-scale of the kept splats are kept
  whole (20 + 12 bytes a splat): framing needs them all, and it only moves positions and
  log-scales; the stats come from them too;
- .spz: colours, rotations and SH are encoded chunk by chunk and compressed in worker
  threads while the file is still being read (:mod:`spacesmith.tools.splat.formats.gz`); positions,
  alphas and scales follow once the frame is known;
- .ksplat: rotation, colour and SH are encoded chunk by chunk, in file order (12 bytes a
  splat at SH0); once the frame is known the bucket layout follows, and the records are
  gathered into bucket order, finished and written a block at a time.

One pass over the file. Peak memory: the interpreter and numpy, about 44 bytes a splat at
SH0 (the PLY has 68), one chunk (about 1 MB of body), and for .spz the compressed output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spacesmith.tools.errors import SplatError, SplatFormatError
from spacesmith.tools.splat.clean import alpha_mask, degenerate_mask, finite_mask, row_max
from spacesmith.tools.splat.formats.ply import PlySource, iter_ply_chunks, open_ply
from spacesmith.tools.splat.frame import camera_for, extent_of, frame_transform
from spacesmith.tools.splat.io import write_atomically
from spacesmith.tools.splat.model import Camera, Splat
from spacesmith.tools.splat.stats import SplatStats, summarise
from spacesmith.tools.splat.transform import (
    Transform,
    transform_orientation,
    transform_positions,
    transform_scales,
)

CHUNK_BYTES = 1 << 20  # one read buffer of vertex rows
MAX_NONFINITE_SHARE = 0.5


@dataclass(frozen=True)
class Streamed:
    camera: Camera
    stats: SplatStats
    out_bytes: int
    in_count: int
    out_count: int
    dropped: dict[str, int]


def return_freed_memory_at_once() -> None:
    """Make glibc hand every freed block of 128 KiB or more straight back to the system.

    By default glibc raises its mmap threshold to the size of the largest block freed so far
    (up to 32 MiB), after which such blocks are kept in the heap and the process's resident
    size stays at its high-water mark; a convert frees many temporaries of a few MiB, so this
    lowers its peak by about 3 MiB. Process-wide: the CLI calls it, the library does not.
    Does nothing where ``mallopt`` is missing (not glibc).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD (fixed: no dynamic raise)
    except (OSError, AttributeError):
        pass


def chunk_rows(src: PlySource) -> int:
    """Rows a chunk: about ``CHUNK_BYTES`` of PLY body."""
    return max(2048, min(65536, CHUNK_BYTES // src.dtype.itemsize))


def convert_ply(src_p: Path, dst_p: Path, *, move: Transform, frame: bool,
                prune_alpha: float | None, degree_cap: int, level: int,
                rows: int | None = None) -> Streamed:
    """Read a PLY, prune, turn, frame and write .ksplat or .spz (see the module docstring).

    Args:
        src_p: the PLY.
        dst_p: a .ksplat or .spz path.
        move: the flip/rotation (scale 1, no translation) applied before framing.
        frame: stand the object on y = 0, 2 units across.
        prune_alpha: drop splats less opaque than this.
        degree_cap: the highest SH degree to keep.
        level: .ksplat compression level.
        rows: rows a chunk (default: :func:`chunk_rows`).

    Raises:
        SplatFormatError: unreadable, or mostly NaN/inf.
        SplatError: nothing left after pruning, or the output cannot be written.
    """
    if not src_p.is_file():
        raise SplatFormatError(f"{src_p}: no such file")
    src = open_ply(src_p)
    rows = rows or chunk_rows(src)
    degree = min(src.sh_degree, degree_cap)
    spz = dst_p.suffix.lower() == ".spz"
    if spz:
        return _to_spz(src, dst_p, move, frame, prune_alpha, degree, rows)
    return _to_ksplat(src, dst_p, move, frame, prune_alpha, degree, level, rows)


class _Pass1:
    """The kept splats' positions and opacities (and log-scales), gathered chunk by chunk."""

    def __init__(self, src: PlySource, prune_alpha: float | None, degree: int,
                 with_scales: bool) -> None:
        n = src.count
        self.n, self.prune_alpha, self.degree = n, prune_alpha, degree
        self.positions = np.empty((n, 3), np.float32)
        self.opacities = np.empty(n, np.float32)
        self.scales = np.empty((n, 3), np.float32) if with_scales else None
        self.max_log_scale = np.empty(n, np.float32)
        self.bad = 0
        self.kept = 0

    def add(self, chunk: Splat) -> Splat:
        """Prune one chunk, remember what it keeps; returns the kept splats (SH cut)."""
        ok = finite_mask(chunk)
        self.bad += chunk.count - int(np.count_nonzero(ok))
        keep = ok
        if self.prune_alpha is not None:
            keep &= alpha_mask(chunk, self.prune_alpha)
        keep &= ~degenerate_mask(chunk)
        if not keep.all():
            chunk = chunk.take(keep)
        if self.degree < chunk.sh_degree:
            chunk = chunk.with_sh_degree(self.degree)
        a, b = self.kept, self.kept + chunk.count
        self.positions[a:b] = chunk.positions
        self.opacities[a:b] = chunk.opacities
        self.max_log_scale[a:b] = row_max(chunk.scales)
        if self.scales is not None:
            self.scales[a:b] = chunk.scales
        self.kept = b
        return chunk

    def finish(self, where: Path) -> dict[str, int]:
        """Check what is left (as the in-memory pipeline does); returns the drop counts."""
        if self.bad > self.n * MAX_NONFINITE_SHARE:
            raise SplatFormatError(f"{where}: {self.bad} of {self.n} splats have NaN/inf values",
                                   hint="the reconstruction is broken; generate it again")
        dropped: dict[str, int] = {}
        if self.kept < self.n:
            dropped = {"nonfinite": self.bad, "pruned": self.n - self.kept - self.bad}
        if self.kept == 0:
            raise SplatError(f"no splats left in {where} after pruning",
                             hint="lower --prune-alpha")
        self.positions = self.positions[:self.kept]
        self.opacities = self.opacities[:self.kept]
        self.max_log_scale = self.max_log_scale[:self.kept]
        if self.scales is not None:
            self.scales = self.scales[:self.kept]
        return dropped

    def place(self, move: Transform, frame: bool) -> tuple[Camera, Transform | None]:
        """Turn the positions, then frame them; returns the camera and the framing move."""
        pos, op = self.positions, self.opacities
        if not (move.is_identity_rotation and move.scale == 1.0):
            transform_positions(pos, move, inplace=True)
        ok = np.isfinite(pos[:, 0])
        ok &= np.isfinite(pos[:, 1])
        ok &= np.isfinite(pos[:, 2])
        ext = extent_of(pos, op, ok)
        if not frame:
            return camera_for(ext), None
        framing, new = frame_transform(ext)
        transform_positions(pos, framing, inplace=True)
        # rounding is monotonic: max(a) + c == max(a + c), the largest framed log-scale
        self.max_log_scale = transform_scales(self.max_log_scale, framing)
        if self.scales is not None:
            self.scales = transform_scales(self.scales, framing)
        return camera_for(new), framing

    def stats(self, degree: int) -> SplatStats:
        return summarise(self.kept, degree, self.positions, self.opacities, self.max_log_scale)


def _orient(chunk: Splat, move: Transform) -> Splat:
    rotations, rest = transform_orientation(chunk.rotations, chunk.sh_rest, move)
    return Splat(chunk.positions, chunk.scales, rotations, chunk.opacities, chunk.sh_dc, rest)


def _to_spz(src: PlySource, dst: Path, move: Transform, frame: bool,
            prune_alpha: float | None, degree: int, rows: int) -> Streamed:
    from spacesmith.tools.splat.formats.spz import (
        SpzStreams,
        header_bytes,
        pack_alphas,
        pack_positions,
        pack_scales,
    )

    p1 = _Pass1(src, prune_alpha, degree, with_scales=True)
    streams = SpzStreams()
    try:
        for _, chunk in iter_ply_chunks(src, rows):
            kept = p1.add(chunk)
            if kept.count:
                streams.add_chunk(_orient(kept, move), positions=False)
        dropped = p1.finish(src.path)
        camera, _ = p1.place(move, frame)
        stats = p1.stats(degree)
        assert p1.scales is not None
        streams.positions.write(header_bytes(p1.kept, degree))
        streams.positions.write(pack_positions(p1.positions))
        streams.alphas.write(pack_alphas(p1.opacities))
        streams.scales.write(pack_scales(p1.scales))
        del p1.positions, p1.opacities, p1.scales, p1.max_log_scale
        out_bytes = write_atomically(dst, streams.write_to)
    finally:
        streams.close()
    return Streamed(camera, stats, out_bytes, src.count, p1.kept, dropped)


def _to_ksplat(src: PlySource, dst: Path, move: Transform, frame: bool,
               prune_alpha: float | None, degree: int, level: int, rows: int) -> Streamed:
    from spacesmith.tools.splat.formats.ksplat import (
        NOTHING_OPAQUE,
        alpha8_kept,
        encode_side,
        side_dtype,
        write_records,
    )

    p1 = _Pass1(src, prune_alpha, degree, with_scales=False)
    n = src.count
    # the splats the .ksplat keeps (8-bit alpha >= 1), in file order: log-scales and the
    # finished rotation, colour and SH; centres and scales wait for the frame and the layout
    side = np.empty(n, side_dtype(level, degree))
    scales = np.empty((n, 3), np.float32)
    written = np.empty(n, np.bool_)
    nw = 0
    for _, chunk in iter_ply_chunks(src, rows):
        kept = p1.add(chunk)
        if not kept.count:
            continue
        w = alpha8_kept(kept.opacities)
        written[p1.kept - kept.count:p1.kept] = w
        if not w.all():
            kept = kept.take(w)
        m = kept.count
        if not m:
            continue
        kept = _orient(kept, move)
        scales[nw:nw + m] = kept.scales
        encode_side(side[nw:nw + m], kept)
        nw += m
    dropped = p1.finish(src.path)
    camera, framing = p1.place(move, frame)
    stats = p1.stats(degree)
    if nw == 0:
        raise SplatError(NOTHING_OPAQUE)
    positions = p1.positions if nw == p1.kept else p1.positions[written[:p1.kept]]
    del p1.positions, p1.opacities, p1.max_log_scale, written
    scales = scales[:nw]
    if framing is not None:
        transform_scales(scales, framing, inplace=True)
    out_bytes = write_atomically(
        dst, lambda f: write_records(f, level, degree, positions, scales, side[:nw]))
    return Streamed(camera, stats, out_bytes, src.count, p1.kept, dropped)
