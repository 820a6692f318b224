"""The cost of running agent code in its own jailed process: the offline Paris build (what
``spacesmith build "build a Paris monuments gallery" --offline`` runs) with the agent-code
process, against the same build with the code run in-process (the executor before issue 10),
interleaved in the same run.

    .venv/bin/python benchmarks/bench_executor.py [--rounds 3]

Each build gets a fresh workspace (no cache) and the same stand-in Spaces (no added latency,
no faults). The time is the whole build as the CLI does it: opening the harness, the
agent's steps, closing it (so the child's start and stop are counted). Writes
benchmarks/results/executor.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from spacesmith.agent.executor.process import IsolatedCodeAgent
from spacesmith.agent.executor.sandbox import SandboxExecutor
from spacesmith.agent.runs.runner import open_harness
from spacesmith.agent.runs.settings import Settings
from spacesmith.agent.runs.workspace import atomic_write
from spacesmith.tools.standins import start_standins

GOAL = "build a Paris monuments gallery"
RESULTS = Path(__file__).resolve().parent / "results" / "executor.json"
TARGET = 1.2


def _in_process(self: Any) -> SandboxExecutor:
    """The executor as it was: smolagents' interpreter narrowed, in the run's own process."""
    return SandboxExecutor(list(self.additional_authorized_imports), timeout_seconds=None)


def build(settings: Settings, in_process: bool) -> dict[str, Any]:
    original = IsolatedCodeAgent.create_python_executor
    if in_process:
        IsolatedCodeAgent.create_python_executor = _in_process  # type: ignore[method-assign]
    try:
        cpu = _cpu()
        start = time.perf_counter()
        harness = open_harness(settings)
        try:
            outcome = harness.run(harness.task_for(GOAL))
            isolation = harness.isolation()
        finally:
            harness.close()
        wall = time.perf_counter() - start
        cpu = _cpu() - cpu
    finally:
        IsolatedCodeAgent.create_python_executor = original  # type: ignore[method-assign]
    if not outcome.success:
        raise SystemExit(f"build failed: {outcome.output}")
    return {"wall_s": wall, "cpu_s": cpu, "steps": outcome.steps, "isolation": isolation}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the agent-code processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"in_process": [], "process": []}
    with tempfile.TemporaryDirectory() as tmp, start_standins(faults=0.0) as spaces:
        n = 0
        for _ in range(args.rounds):
            for variant in ("in_process", "process"):
                n += 1
                settings = Settings(goal=GOAL, output=Path(tmp) / f"run{n}", model="offline",
                                    image_space=spaces.image_url,
                                    splat_space=spaces.splat_url)
                runs[variant].append(build(settings, variant == "in_process"))
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    steps = statistics.median(r["steps"] for r in runs["process"])
    ratio = med["process"] / med["in_process"]
    result = {
        "goal": GOAL, "rounds": args.rounds, "python": platform.python_version(),
        "machine": platform.machine(), "median_s": med, "steps": steps,
        "per_step_overhead_s": (med["process"] - med["in_process"]) / max(steps, 1),
        "ratio": ratio, "target": TARGET, "median_cpu_s": cpu,
        "cpu_ratio": cpu["process"] / cpu["in_process"],
        "confinement": runs["process"][0]["isolation"]["confinement"],
        "runs": {k: [r["wall_s"] for r in v] for k, v in runs.items()},
        "load_average": list(os.getloadavg()),
    }
    atomic_write(RESULTS, (json.dumps(result, indent=2) + "\n").encode())
    print(f"offline Paris build, {args.rounds} interleaved rounds, {steps:g} steps")
    print(f"in-process executor: median {med['in_process']:.2f} s "
          f"{[round(r['wall_s'], 2) for r in runs['in_process']]}")
    print(f"agent-code process:  median {med['process']:.2f} s "
          f"{[round(r['wall_s'], 2) for r in runs['process']]}")
    print(f"ratio {ratio:.2f}x (target <= {TARGET}x); "
          f"per-step overhead {result['per_step_overhead_s'] * 1000:.0f} ms")
    print(f"CPU: in-process {cpu['in_process']:.2f} s, process {cpu['process']:.2f} s "
          f"({result['cpu_ratio']:.2f}x); load average {os.getloadavg()[0]:.1f}")
    print(f"confinement: {result['confinement']}")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
