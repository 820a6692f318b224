"""Cold start of the spacesmith CLI against the imports its peers pay before doing anything.

    .venv/bin/python benchmarks/bench_cli.py [--starts 9]

Each figure is the median wall time of whole fresh processes, interleaved so that machine
load hits every command alike. Peers: a bare interpreter (the floor), ``import gradio_client``
(what a gradio_client script pays before its first call) and ``import smolagents`` (what any
smolagents CLI pays). Writes benchmarks/results/cli.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "cli.json"
BIN = Path(sys.executable).parent


def commands(ply: Path) -> dict[str, list[str]]:
    spacesmith = str(BIN / "spacesmith")
    return {
        "spacesmith --help": [spacesmith, "--help"],
        "spacesmith splat info (2k splats)": [spacesmith, "splat", "info", str(ply)],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "python -c 'import gradio_client'": [sys.executable, "-c", "import gradio_client"],
        "python -c 'import smolagents'": [sys.executable, "-c", "import smolagents"],
    }


def time_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=9, help="timed starts per command")
    args = parser.parse_args()
    from spacesmith.tools.splat.synthetic import write_test_ply

    with tempfile.TemporaryDirectory() as tmp:
        ply = Path(tmp) / "small.ply"
        write_test_ply(ply, n=2000)
        cmds = commands(ply)
        for argv in cmds.values():  # warm the page cache and .pyc files
            time_once(argv)
        samples: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.starts):
            for name, argv in cmds.items():
                samples[name].append(time_once(argv))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    result = {
        "starts": args.starts,
        "median_s": medians,
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("| command | median cold start (s) |\n|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.3f} |")


if __name__ == "__main__":
    main()
