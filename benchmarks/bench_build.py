"""Wall time of a six-monument `build` against the stand-in Spaces with a fixed added latency:
the fan-out (six calls at a time) versus one call at a time, a rebuild after "zoom out", and
a rerun served from the cache.

    .venv/bin/python benchmarks/bench_build.py [--latency 2.0] [--subjects 6]

Writes benchmarks/results/build.json and prints a table. Everything runs locally: the
offline planner drives the real CodeAgent, the real stand-in Spaces, the real splat
conversion and the real site build.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from spacesmith.agent.chat.session import ChatSession
from spacesmith.agent.runs.runner import open_harness
from spacesmith.agent.runs.settings import Settings
from spacesmith.agent.runs.workspace import atomic_write
from spacesmith.tools.standins import start_standins

GOAL = "build a Paris monuments gallery"
RESULTS = Path(__file__).resolve().parent / "results" / "build.json"


def timed_build(settings: Settings, workers: int) -> tuple[float, dict[str, Any], ChatSession]:
    harness = open_harness(settings, max_workers=workers)
    chat = ChatSession.open(harness)
    start = time.perf_counter()
    outcome = chat.send(GOAL)
    elapsed = time.perf_counter() - start
    if not outcome.success:
        raise SystemExit(f"build failed: {outcome.output}")
    return elapsed, {"calls": harness.session.calls_made,
                     "cached": harness.session.calls_cached}, chat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=2.0, help="seconds added per call")
    parser.add_argument("--subjects", type=int, default=6)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, start_standins(latency=args.latency,
                                                              faults=0.0) as spaces:
        def settings(name: str) -> Settings:
            return Settings(goal=GOAL, output=Path(tmp) / name, model="offline",
                            image_space=spaces.image_url, splat_space=spaces.splat_url,
                            num_gaussians="32768")

        goal_settings = settings("fan-out")
        goal_settings = goal_settings.with_(
            subjects=tuple(_subjects(args.subjects)))
        wall, calls, chat = timed_build(goal_settings, workers=6)
        rows.append({"run": f"build, fan-out (6 at a time), {args.subjects} monuments",
                     "wall_s": wall, **calls})
        start = time.perf_counter()
        outcome = chat.send("zoom out")
        assert outcome.success, outcome.output
        rows.append({"run": "rebuild after 'zoom out' (chat turn)",
                     "wall_s": time.perf_counter() - start,
                     "calls": chat.harness.session.calls_made - calls["calls"], "cached": 0})
        chat.harness.close()
        wall, calls, chat = timed_build(goal_settings, workers=6)
        chat.harness.close()
        rows.append({"run": "same build again (every call cached)", "wall_s": wall, **calls})
        one = settings("one-at-a-time").with_(subjects=goal_settings.subjects)
        wall, calls, chat = timed_build(one, workers=1)
        chat.harness.close()
        rows.append({"run": f"build, one call at a time, {args.subjects} monuments",
                     "wall_s": wall, **calls})
    result = {"latency_s": args.latency, "subjects": args.subjects,
              "num_gaussians": "32768", "python": platform.python_version(),
              "machine": platform.machine(), "rows": rows}
    atomic_write(RESULTS, (json.dumps(result, indent=2) + "\n").encode())
    print(f"latency added per Space call: {args.latency:.1f} s; {args.subjects} monuments")
    print(f"{'run':<52} {'wall (s)':>9} {'calls':>6} {'cached':>7}")
    for row in rows:
        print(f"{row['run']:<52} {row['wall_s']:>9.2f} {row['calls']:>6} {row['cached']:>7}")
    print(f"written: {RESULTS}")


def _subjects(n: int) -> list[str]:
    from spacesmith.agent.planner.intents import THEMES

    return list(THEMES["paris"][1][:n])


if __name__ == "__main__":
    main()
