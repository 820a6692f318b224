"""Read -> fix -> write in one call: the splat pipeline the agent and the CLI use.

Order: read (non-finite splats tolerated, then dropped) -> keep SH bands the output can
hold -> prune (alpha, degenerate) -> decimate -> flip Y (Y-down -> Y-up) -> rotate ->
frame -> write (atomic). The flip comes before ``rotate``, so rotations are given in the
Y-up frame.

A PLY going to .ksplat or .spz (without ``max_splats``) takes the streamed route in
:mod:`spacesmith.tools.splat.streaming`: one pass over the file, a fraction of the memory, the same
bytes, camera, stats and counts. Everything else runs on a whole :class:`Splat` here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from spacesmith.tools.errors import SplatError, SplatFormatError
from spacesmith.tools.splat import clean
from spacesmith.tools.splat.frame import camera_for, robust_extent
from spacesmith.tools.splat.frame import frame as frame_splat
from spacesmith.tools.splat.io import read_splat_file, write
from spacesmith.tools.splat.model import Camera, Splat
from spacesmith.tools.splat.stats import SplatStats, compute_stats
from spacesmith.tools.splat.transform import Transform, apply

MAX_NONFINITE_SHARE = 0.5


@dataclass(frozen=True)
class ConvertResult:
    """What :func:`convert` did: the camera to use, the output's stats and size."""

    camera: Camera
    stats: SplatStats
    out_bytes: int
    src: Path = Path()
    dst: Path = Path()
    in_count: int = 0
    out_count: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "src": str(self.src), "dst": str(self.dst), "in_count": self.in_count,
            "out_count": self.out_count, "out_bytes": self.out_bytes, "dropped": self.dropped,
            "camera": self.camera.to_dict(), "stats": self.stats.to_dict(),
            "elapsed_s": round(self.elapsed_s, 4),
        }


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    flip_y: bool = False,
    rotate: tuple[float, float, float] | None = None,
    frame: bool = False,
    prune_alpha: float | None = None,
    max_splats: int | None = None,
    sh_degree: int | None = None,
    level: int = 1,
) -> ConvertResult:
    """Convert a splat file, fixing it on the way.

    Args:
        src: input .ply/.splat/.ksplat/.spz.
        dst: output; the format follows the extension.
        flip_y: turn a Y-down reconstruction Y-up (180° about X).
        rotate: Euler angles in degrees (X, then Y, then Z), applied after the flip.
        frame: stand the object on y = 0 at the origin, 2 units across.
        prune_alpha: drop splats less opaque than this (0-1).
        max_splats: keep at most this many splats (the most important ones).
        sh_degree: highest SH degree to keep.
        level: .ksplat compression level 0-2.

    Returns:
        The camera a viewer should use, the output's stats and size, and counts.

    Raises:
        SplatFormatError: the input is unreadable, or mostly NaN/inf.
        SplatError: a bad option, nothing left after pruning, or the output cannot be written.
    """
    t0 = time.perf_counter()
    src_p, dst_p = Path(src), Path(dst)
    if src_p.resolve() == dst_p.resolve():
        raise SplatError(f"input and output are the same file: {src_p}",
                         hint="write to a new file")
    if level not in (0, 1, 2):
        raise SplatError(f"--level must be 0, 1 or 2, got {level}")
    move = Transform()
    if flip_y:
        move = Transform.flip_y()
    if rotate is not None:
        move = Transform.rotate(*rotate) @ move
    if _streamable(src_p, dst_p, sh_degree, max_splats):
        from spacesmith.tools.splat.streaming import convert_ply

        done = convert_ply(src_p, dst_p, move=move, frame=frame, prune_alpha=prune_alpha,
                           degree_cap=_degree_cap(sh_degree, dst_p), level=level)
        return ConvertResult(
            camera=done.camera, stats=done.stats, out_bytes=done.out_bytes, src=src_p,
            dst=dst_p, in_count=done.in_count, out_count=done.out_count, dropped=done.dropped,
            elapsed_s=time.perf_counter() - t0,
        )
    return _convert_in_memory(src_p, dst_p, move=move, frame=frame, prune_alpha=prune_alpha,
                              max_splats=max_splats, sh_degree=sh_degree, level=level, t0=t0)


def _streamable(src: Path, dst: Path, sh_degree: int | None, max_splats: int | None) -> bool:
    """Whether the streamed pipeline applies: PLY in, .ksplat/.spz out, no decimation, and an
    SH option that raises no error (errors come from the in-memory path, in its order)."""
    if src.suffix.lower() != ".ply" or dst.suffix.lower() not in (".ksplat", ".spz"):
        return False
    if max_splats is not None:
        return False
    return sh_degree is None or 0 <= sh_degree <= _degree_cap(None, dst)


def _degree_cap(wanted: int | None, dst: Path) -> int:
    cap = {".ksplat": 2, ".splat": 0}.get(dst.suffix.lower(), 3)
    return cap if wanted is None else wanted


def _convert_in_memory(src_p: Path, dst_p: Path, *, move: Transform, frame: bool,
                       prune_alpha: float | None, max_splats: int | None,
                       sh_degree: int | None, level: int, t0: float) -> ConvertResult:
    """The pipeline on a whole Splat in memory (any input format, any option)."""
    splat = read_splat_file(src_p, allow_nonfinite=True)
    in_count = splat.count
    dropped: dict[str, int] = {}

    keep = clean.finite_mask(splat)
    bad = int(in_count - keep.sum())
    if bad > in_count * MAX_NONFINITE_SHARE:
        raise SplatFormatError(f"{src_p}: {bad} of {in_count} splats have NaN/inf values",
                               hint="the reconstruction is broken; generate it again")
    degree = _target_degree(splat, sh_degree, dst_p)
    if degree < splat.sh_degree:
        splat = splat.with_sh_degree(degree)
    if prune_alpha is not None:
        keep &= clean.alpha_mask(splat, prune_alpha)
    keep &= ~clean.degenerate_mask(splat)
    if not keep.all():
        dropped["nonfinite"] = bad
        dropped["pruned"] = int(in_count - keep.sum()) - bad
        splat = splat.take(keep)
    if splat.count == 0:
        raise SplatError(f"no splats left in {src_p} after pruning",
                         hint="lower --prune-alpha")
    if max_splats is not None and splat.count > max_splats:
        before = splat.count
        splat = clean.decimate(splat, max_splats)
        dropped["decimated"] = before - splat.count

    if not (move.is_identity_rotation and move.scale == 1.0):
        splat = apply(splat, move)
    if frame:
        splat, camera = frame_splat(splat)
    else:
        camera = camera_for(robust_extent(splat))
    out_bytes = write(splat, dst_p, level=level)
    return ConvertResult(
        camera=camera, stats=compute_stats(splat), out_bytes=out_bytes, src=src_p, dst=dst_p,
        in_count=in_count, out_count=splat.count, dropped=dropped,
        elapsed_s=time.perf_counter() - t0,
    )


def _target_degree(splat: Splat, wanted: int | None, dst: Path) -> int:
    if wanted is not None and not 0 <= wanted <= 3:
        raise SplatError(f"--sh-degree must be 0..3, got {wanted}")
    cap = {".ksplat": 2, ".splat": 0}.get(dst.suffix.lower(), 3)
    if wanted is not None and wanted > cap:
        raise SplatError(f"{dst.suffix} holds SH degree 0-{cap}, not {wanted}",
                         hint=f"pass --sh-degree {cap} or lower")
    return min(splat.sh_degree, cap if wanted is None else wanted)
