"""``spacesmith splat``: inspect and convert Gaussian splat files.

    spacesmith splat info FILE [--json]
    spacesmith splat convert IN OUT [--flip-y] [--rotate X,Y,Z] [--frame]
        [--prune-alpha A] [--max-splats N] [--sh-degree D] [--level L]

Heavy imports (numpy, the splat toolkit) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def _angles(text: str) -> tuple[float, float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 3:
            raise ValueError
        x, y, z = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected three angles in degrees like 0,90,0, got '{text}'") from None
    return (x, y, z)


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected an alpha in [0, 1), got '{text}'")
    return value


def register(subparsers: Any) -> None:
    """Add the ``splat`` command group to the top-level parser."""
    group = subparsers.add_parser("splat", help="inspect and convert Gaussian splat files")
    sub = group.add_subparsers(dest="splat_command", metavar="SUBCOMMAND")
    group.set_defaults(handler=lambda args: (group.print_help(), 2)[1])

    info = sub.add_parser("info", help="count, SH degree, bounds, opacity; judge the splat")
    info.add_argument("file", help=".ply, .splat, .ksplat or .spz")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=run_info)

    conv = sub.add_parser("convert", help="fix and convert; the format follows OUT's extension")
    conv.add_argument("input", help=".ply, .splat, .ksplat or .spz")
    conv.add_argument("output", help=".ply, .splat, .ksplat or .spz")
    conv.add_argument("--flip-y", action="store_true",
                      help="turn a Y-down reconstruction Y-up (180° about X)")
    conv.add_argument("--rotate", type=_angles, metavar="X,Y,Z",
                      help="rotate by Euler angles in degrees (X, then Y, then Z), after --flip-y")
    conv.add_argument("--frame", action="store_true",
                      help="stand the object on y=0 at the origin, 2 units across")
    conv.add_argument("--prune-alpha", type=_alpha, metavar="A",
                      help="drop splats less opaque than A (0-1)")
    conv.add_argument("--max-splats", type=int, metavar="N", help="keep the N most important")
    conv.add_argument("--sh-degree", type=int, choices=range(4), metavar="D",
                      help="highest SH degree to keep (0-3; .ksplat holds 0-2)")
    conv.add_argument("--level", type=int, choices=range(3), default=1, metavar="L",
                      help=".ksplat compression level 0-2 (default 1)")
    conv.add_argument("--json", action="store_true", help="print the result as JSON")
    conv.set_defaults(handler=run_convert)


def run_info(args: argparse.Namespace) -> int:
    from spacesmith.tools.splat.io import read_splat_file
    from spacesmith.tools.splat.stats import compute_stats, verdict

    splat = read_splat_file(args.file)
    stats = compute_stats(splat)
    judged = verdict(stats)
    if args.json:
        print(json.dumps({"file": args.file, **stats.to_dict(), "verdict": judged.to_dict()}))
        return 0
    lo, hi = stats.bounds_min, stats.bounds_max
    print(f"{args.file}: {stats.count:,} splats, SH degree {stats.sh_degree}")
    print(f"  bounds     ({lo[0]:.3g}, {lo[1]:.3g}, {lo[2]:.3g}) .. "
          f"({hi[0]:.3g}, {hi[1]:.3g}, {hi[2]:.3g})")
    c = stats.centre
    print(f"  centre     ({c[0]:.3g}, {c[1]:.3g}, {c[2]:.3g}), radius (p98) {stats.radius_p98:.3g}")
    print(f"  opacity    median {stats.median_alpha:.2f}, {stats.opaque_count:,} with alpha >= 0.1")
    print(f"  histogram  {' '.join(str(v) for v in stats.opacity_histogram)} (alpha 0..1)")
    print("  verdict    " + ("ok" if judged.ok else "; ".join(judged.problems)))
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from spacesmith.tools.splat.convert import convert
    from spacesmith.tools.splat.streaming import return_freed_memory_at_once

    return_freed_memory_at_once()

    result = convert(
        args.input, args.output, flip_y=args.flip_y, rotate=args.rotate, frame=args.frame,
        prune_alpha=args.prune_alpha, max_splats=args.max_splats, sh_degree=args.sh_degree,
        level=args.level,
    )
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    dropped = ", ".join(f"{v:,} {k}" for k, v in result.dropped.items() if v) or "none dropped"
    print(f"wrote {args.output}: {result.out_count:,} splats ({dropped}), "
          f"{result.out_bytes / 1e6:.2f} MB in {result.elapsed_s:.2f} s")
    cam = result.camera
    print("camera: position ({:.3f}, {:.3f}, {:.3f}) target ({:.3f}, {:.3f}, {:.3f}) fov {:g}"
          .format(*cam.position, *cam.target, cam.fov))
    return 0
