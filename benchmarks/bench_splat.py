"""Benchmark ``spacesmith splat convert`` against the formats' reference tools.

On generated Y-down PLYs (262,144 splats at SH0 and SH3, 1,048,576 at SH0) this times, as
whole processes (interpreter / node start included), in the same run:

- .ksplat: ``spacesmith splat convert IN OUT.ksplat --flip-y --prune-alpha A --frame``
  vs GaussianSplats3D's generator (tests/js/create_ksplat.mjs), level 1, SH up to 2;
- .spz:    ``spacesmith splat convert IN OUT.spz --flip-y --prune-alpha A --frame``
  vs ``splat-transform IN -r 180,0,0 -V opacity,gt,A --spz-version 3 OUT.spz``.

Python runs with its bytecode cache (in a private folder, ``PYTHONPYCACHEPREFIX``, filled
by a warm-up run), as an installed CLI has it, even where ``PYTHONDONTWRITEBYTECODE`` is set;
node runs once before timing too (page cache). The runs of every tool on a case are
interleaved (ours, peer, ours, peer, ...) so that load from other processes on the machine
falls on both alike. ``--baseline REF`` also runs the
spacesmith of a git revision (exported to a temporary folder) the same way: a before/after
comparison under the same conditions.

Reports per case: the median wall time of ``--runs`` runs and its ratio to the peer's
(targets: <= 0.4x create-ksplat, <= 0.6x splat-transform), the peak RSS (/usr/bin/time,
the largest of the runs) and its multiple of the input file (target <= 3x), and the output
bytes (target: no larger than the peer's). Writes benchmarks/results/splat.json and prints
a markdown table.

    .venv/bin/python benchmarks/bench_splat.py [--runs 5] [--quick] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
ST_CLI = JS / "node_modules" / "@playcanvas" / "splat-transform" / "bin" / "cli.mjs"
PRUNE = 0.05
TARGET = {"ksplat": 0.4, "spz": 0.6}
MEMORY_TARGET = 3.0


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one process run."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", *cmd], cwd=cwd,
                          capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    rss = int(re.findall(r"MAXRSS (\d+)", proc.stderr)[-1]) * 1024
    return wall, rss


class Tool:
    """One command measured over several interleaved runs."""

    def __init__(self, name: str, cmd: list[str], out: Path, cwd: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.cmd, self.out, self.cwd, self.env = name, cmd, out, cwd, env
        self.walls: list[float] = []
        self.rss: list[int] = []

    def run_once(self) -> None:
        self.out.unlink(missing_ok=True)
        wall, rss = timed(self.cmd, self.cwd, self.env)
        self.walls.append(wall)
        self.rss.append(rss)

    def result(self) -> dict[str, Any]:
        return {"time_s": statistics.median(self.walls), "times_s": self.walls,
                "peak_rss_mb": max(self.rss) / 1e6, "out_bytes": self.out.stat().st_size}


def measure(tools: list[Tool], runs: int) -> None:
    for tool in tools:  # a warm-up: page cache, node's compile cache
        tool.run_once()
        tool.walls.clear()
        tool.rss.clear()
    for _ in range(runs):
        for tool in tools:
            tool.run_once()


def export_revision(ref: str, dest: Path) -> Path:
    """The ``agent`` and ``tools`` packages of git revision ``ref``, unpacked into ``dest``."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, "agent", "tools"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="only the 262k SH0 file")
    parser.add_argument("--baseline", metavar="REF",
                        help="also run the spacesmith of this git revision (before/after)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from spacesmith.tools.splat.synthetic import make_splat, write_test_ply

    cases = [("262k SH0", 262_144, 0), ("262k SH3", 262_144, 3), ("1M SH0", 1_048_576, 0)]
    if args.quick:
        cases = cases[:1]
    py = [sys.executable, "-m", "spacesmith"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        py_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        py_env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        base_env = None
        if args.baseline:
            base_root = export_revision(args.baseline, tmp / "baseline")
            base_env = {**py_env, "PYTHONPATH": str(base_root),
                        "PYTHONPYCACHEPREFIX": str(tmp / "pycache-baseline")}
        for name, n, degree in cases:
            src = tmp / f"in_{n}_{degree}.ply"
            write_test_ply(src, make_splat(n, sh_degree=degree, seed=1, y_down=True))
            in_bytes = src.stat().st_size
            common = ["--flip-y", "--prune-alpha", str(PRUNE), "--frame"]
            for fmt in ("ksplat", "spz"):
                ours_out, peer_out = tmp / f"ours.{fmt}", tmp / f"peer.{fmt}"
                level = ["--level", "1"] if fmt == "ksplat" else []
                ours = Tool("ours", [*py, "splat", "convert", str(src), str(ours_out), *common,
                                     *level], ours_out, ROOT, py_env)
                if fmt == "ksplat":
                    peer = Tool("create-ksplat", ["node", str(JS / "create_ksplat.mjs"), str(src),
                                                  str(peer_out), "1", str(min(degree, 2)),
                                                  str(int(PRUNE * 255))], peer_out, JS)
                else:
                    peer = Tool("splat-transform", ["node", str(ST_CLI), "-q", "-w", str(src),
                                                    "-r", "180,0,0", "-V", f"opacity,gt,{PRUNE}",
                                                    "--spz-version", "3", str(peer_out)],
                                peer_out, JS)
                tools = [ours, peer]
                base = None
                if base_env is not None:
                    base_out = tmp / f"base.{fmt}"
                    base = Tool("baseline", [*py, "splat", "convert", str(src), str(base_out),
                                             *common, *level], base_out, tmp, base_env)
                    tools.append(base)
                measure(tools, args.runs)
                row = _row(name, fmt, in_bytes, ours.result(), peer.name, peer.result())
                if base is not None:
                    row["baseline"] = _side(base.result(), peer.result(), in_bytes)
                    row["baseline_ref"] = args.baseline
                rows.append(row)
                print(_line(row), flush=True)
    report = {"machine": platform.platform(), "cpus": os.cpu_count(),
              "python": platform.python_version(), "runs": args.runs, "prune_alpha": PRUNE,
              "load_average_after": os.getloadavg(), "rows": rows}
    out = ROOT / "benchmarks" / "results" / "splat.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(rows))
    return 0


def _side(ours: dict[str, Any], peer: dict[str, Any], in_bytes: int) -> dict[str, Any]:
    return {**ours, "time_ratio": ours["time_s"] / peer["time_s"],
            "memory_vs_input": ours["peak_rss_mb"] * 1e6 / in_bytes,
            "bytes_vs_peer": ours["out_bytes"] / peer["out_bytes"]}


def _row(case: str, fmt: str, in_bytes: int, ours: dict[str, Any], peer_name: str,
         peer: dict[str, Any]) -> dict[str, Any]:
    side = _side(ours, peer, in_bytes)
    return {
        "case": case, "format": fmt, "input_bytes": in_bytes, "input_mb": in_bytes / 1e6,
        "ours": side, "peer": peer_name, "theirs": peer,
        "time_ratio": side["time_ratio"], "memory_vs_input": side["memory_vs_input"],
        "target_ratio": TARGET[fmt],
        "meets": {"time": side["time_ratio"] <= TARGET[fmt],
                  "bytes": ours["out_bytes"] <= peer["out_bytes"],
                  "memory": side["memory_vs_input"] <= MEMORY_TARGET},
    }


def _line(r: dict[str, Any]) -> str:
    o, t = r["ours"], r["theirs"]
    ok = "".join("✓" if v else "✗" for v in r["meets"].values())
    return (f"| {r['case']} | .{r['format']} | {o['time_s']:.2f} | {r['peer']} {t['time_s']:.2f} | "
            f"{r['time_ratio']:.2f} (<= {r['target_ratio']}) | {o['out_bytes']:,} / "
            f"{t['out_bytes']:,} | {o['peak_rss_mb']:.1f} ({r['memory_vs_input']:.2f}x of "
            f"{r['input_mb']:.1f}) | {t['peak_rss_mb']:.0f} | {ok} |")


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| case | format | ours s | peer s | ratio (target) | out bytes ours / peer "
            "| ours peak RSS MB (x input) | peer RSS MB | time/bytes/memory |\n"
            "|---|---|---|---|---|---|---|---|---|")
    lines = [head, *(_line(r) for r in rows)]
    if any("baseline" in r for r in rows):
        lines += ["", f"Baseline ({rows[0].get('baseline_ref')}) in the same run:", "",
                  "| case | format | before s | after s | before ratio | after ratio "
                  "| before bytes | after bytes | before RSS MB (x) | after RSS MB (x) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            b, o = r["baseline"], r["ours"]
            lines.append(
                f"| {r['case']} | .{r['format']} | {b['time_s']:.2f} | {o['time_s']:.2f} | "
                f"{b['time_ratio']:.2f} | {o['time_ratio']:.2f} | {b['out_bytes']:,} | "
                f"{o['out_bytes']:,} | {b['peak_rss_mb']:.0f} ({b['memory_vs_input']:.1f}x) | "
                f"{o['peak_rss_mb']:.0f} ({o['memory_vs_input']:.1f}x) |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
