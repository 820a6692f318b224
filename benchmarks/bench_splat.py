"""Benchmark ``spacesmith splat convert`` against the formats' reference tools.

On generated Y-down PLYs (262,144 splats at SH0 and SH3, 1,048,576 at SH0) this times, as
whole processes (interpreter / node start included), in the same run:

- .ksplat: ``spacesmith splat convert IN OUT.ksplat --flip-y --prune-alpha A --frame``
  vs GaussianSplats3D's generator (tests/js/create_ksplat.mjs), level 1, SH up to 2;
- .spz:    ``spacesmith splat convert IN OUT.spz --flip-y --prune-alpha A --frame``
  vs ``splat-transform IN -r 180,0,0 -V opacity,gt,A --spz-version 3 OUT.spz``.

Reports the median wall time of ``--runs`` runs, the peak RSS (/usr/bin/time) and the
output size; writes benchmarks/results/splat.json and prints a markdown table.

    .venv/bin/python benchmarks/bench_splat.py [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
ST_CLI = JS / "node_modules" / "@playcanvas" / "splat-transform" / "bin" / "cli.mjs"
PRUNE = 0.05


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one process run."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", *cmd], cwd=cwd,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    rss = int(re.findall(r"MAXRSS (\d+)", proc.stderr)[-1]) * 1024
    return wall, rss


def measure(cmd: list[str], out: Path, runs: int, cwd: Path) -> dict[str, float]:
    walls, rss = [], []
    for _ in range(runs):
        out.unlink(missing_ok=True)
        w, r = timed(cmd, cwd)
        walls.append(w)
        rss.append(r)
    return {"time_s": statistics.median(walls), "peak_rss_mb": max(rss) / 1e6,
            "out_mb": out.stat().st_size / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only the 262k SH0 file")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tools.splat.synthetic import make_splat, write_test_ply

    cases = [("262k SH0", 262_144, 0), ("262k SH3", 262_144, 3), ("1M SH0", 1_048_576, 0)]
    if args.quick:
        cases = cases[:1]
    py = [sys.executable, "-m", "agent"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        for name, n, degree in cases:
            src = tmp / f"in_{n}_{degree}.ply"
            write_test_ply(src, make_splat(n, sh_degree=degree, seed=1, y_down=True))
            in_mb = src.stat().st_size / 1e6
            ours_k = tmp / "ours.ksplat"
            ours_s = tmp / "ours.spz"
            theirs_k = tmp / "theirs.ksplat"
            theirs_s = tmp / "theirs.spz"
            common = ["--flip-y", "--prune-alpha", str(PRUNE), "--frame"]
            k_degree = min(degree, 2)
            results = {
                "ksplat": (
                    measure([*py, "splat", "convert", str(src), str(ours_k), *common,
                             "--level", "1"], ours_k, args.runs, ROOT),
                    measure(["node", str(JS / "create_ksplat.mjs"), str(src), str(theirs_k),
                             "1", str(k_degree), str(int(PRUNE * 255))], theirs_k, args.runs,
                            JS),
                ),
                "spz": (
                    measure([*py, "splat", "convert", str(src), str(ours_s), *common],
                            ours_s, args.runs, ROOT),
                    measure(["node", str(ST_CLI), "-q", "-w", str(src), "-r", "180,0,0",
                             "-V", f"opacity,gt,{PRUNE}", "--spz-version", "3", str(theirs_s)],
                            theirs_s, args.runs, JS),
                ),
            }
            for fmt, (ours, theirs) in results.items():
                rows.append({
                    "case": name, "format": fmt, "input_mb": round(in_mb, 2),
                    "ours": ours, "theirs": theirs,
                    "peer": "create-ksplat" if fmt == "ksplat" else "splat-transform",
                    "time_ratio": ours["time_s"] / theirs["time_s"],
                    "memory_vs_input": ours["peak_rss_mb"] / in_mb,
                    "target_ratio": 0.4 if fmt == "ksplat" else 0.6,
                })
    report = {"machine": platform.platform(), "python": platform.python_version(),
              "runs": args.runs, "prune_alpha": PRUNE, "rows": rows}
    out = ROOT / "benchmarks" / "results" / "splat.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("| case | format | ours s | peer | peer s | ratio (target) | ours MB out | peer MB out"
          " | ours peak RSS MB (x input) | peer peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, t = r["ours"], r["theirs"]
        print(f"| {r['case']} | .{r['format']} | {o['time_s']:.2f} | {r['peer']} | "
              f"{t['time_s']:.2f} | {r['time_ratio']:.2f} (<= {r['target_ratio']}) | "
              f"{o['out_mb']:.2f} | {t['out_mb']:.2f} | {o['peak_rss_mb']:.0f} "
              f"({r['memory_vs_input']:.1f}x of {r['input_mb']:.0f}) | {t['peak_rss_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
