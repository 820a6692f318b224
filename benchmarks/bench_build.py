"""Wall time of a six-monument `build` against stand-in Spaces that run one event at a time
(gradio's default), image 3 s and splat 6 s per call, each pair in its own process: the
pipelined chain, one call at a time, the chain with two splat Spaces, each beside the limit
computed from the latencies; a rebuild after "zoom out" and a rerun served from the cache.

    .venv/bin/python benchmarks/bench_build.py [--image-s 3] [--splat-s 6] [--subjects 6]

The limit with one Space per role is min(Li, Ls) + n·max(Li, Ls); in general it is the
finish time of the ideal schedule (image i done at (i+1)·Li, each splat on the first free
splat Space as soon as its image is done), which ignores every overhead (the stand-ins' own
drawing and lifting, uploads, downloads, splat fixing, the site build). Writes
benchmarks/results/build.json and prints a table. Everything runs locally: the offline
planner drives the real CodeAgent, the real stand-in Spaces, the real splat conversion and
the real site build.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spacesmith.agent.chat.session import ChatSession
from spacesmith.agent.codeagent.harness import build_harness
from spacesmith.agent.planner.planner import OfflinePlanner
from spacesmith.agent.runs.runner import open_harness
from spacesmith.agent.runs.settings import Settings, from_environment
from spacesmith.agent.runs.workspace import atomic_write

GOAL = "build a Paris monuments gallery"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "build.json"


class OneAtATime(OfflinePlanner):
    """The offline planner, but its build step makes one call at a time (image, splat, next)."""

    def generate(self, messages: Any, stop_sequences: Any = None, response_format: Any = None,
                 tools_to_call_from: Any = None, **kwargs: Any) -> Any:
        message = super().generate(messages, stop_sequences, response_format,
                                   tools_to_call_from, **kwargs)
        message.content = message.content.replace(
            "res = chain(prompts)", "res = [chain([p])[0] for p in prompts]")
        return message


@contextlib.contextmanager
def served(latency: str) -> Iterator[tuple[str, str]]:
    """A pair of stand-ins in their own process (``spacesmith spaces serve``), as remote as a
    real Space: its work does not share this process's interpreter. Yields the base URLs."""
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", SPACESMITH_FAULTS="")
    proc = subprocess.Popen([sys.executable, "-m", "spacesmith", "spaces", "serve",
                             "--latency", latency], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().strip() for _ in range(2)]  # "image: URL/agents.md"
        if not all(u.startswith(("image: ", "splat: ")) for u in urls):
            raise SystemExit(f"the stand-ins did not start: {urls!r}")
        image, splat = (u.split(" ", 1)[1].removesuffix("/agents.md") for u in urls)
        yield image, splat
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def limit_s(n: int, image_s: float, splat_s: float, splat_spaces: int) -> float:
    """The ideal finish time: images one after another, each splat on the first free Space."""
    free = [0.0] * splat_spaces
    end = 0.0
    for i in range(n):
        ready = (i + 1) * image_s
        k = min(range(splat_spaces), key=lambda j: free[j])
        free[k] = max(free[k], ready) + splat_s
        end = max(end, free[k])
    return end


def timed_build(settings: Settings, model: Any = None) -> tuple[float, dict[str, Any], ChatSession]:
    if model is None:
        harness = open_harness(settings)
    else:
        harness = build_harness(from_environment(settings), model=model,
                                model_label="offline planner, one call at a time")
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
    parser.add_argument("--image-s", type=float, default=3.0, help="seconds per image call")
    parser.add_argument("--splat-s", type=float, default=6.0, help="seconds per splat call")
    parser.add_argument("--subjects", type=int, default=6)
    args = parser.parse_args()
    n, li, ls = args.subjects, args.image_s, args.splat_s
    rows: list[dict[str, Any]] = []
    profile = f"image={li:g},splat={ls:g}"
    with tempfile.TemporaryDirectory() as tmp, served(profile) as (image, splat), \
            served(profile) as (_, splat2):
        subjects = tuple(_subjects(n))

        def settings(name: str, *more: str) -> Settings:
            return Settings(goal=GOAL, output=Path(tmp) / name, model="offline",
                            subjects=subjects, image_space=image, splat_space=splat,
                            more_splat_spaces=more, num_gaussians="32768")

        wall, calls, chat = timed_build(settings("chain"))
        rows.append({"run": "chain", "spaces": "1 image, 1 splat", "wall_s": wall,
                     "limit_s": limit_s(n, li, ls, 1), **calls})
        start = time.perf_counter()
        outcome = chat.send("zoom out")
        assert outcome.success, outcome.output
        rows.append({"run": "rebuild after 'zoom out' (chat turn)",
                     "wall_s": time.perf_counter() - start,
                     "calls": chat.harness.session.calls_made - calls["calls"], "cached": 0})
        chat.harness.close()
        wall, calls, chat = timed_build(settings("chain"))
        chat.harness.close()
        rows.append({"run": "same build again (every call cached)", "wall_s": wall, **calls})
        one = settings("one-at-a-time")
        wall, calls, chat = timed_build(one, model=OneAtATime())
        chat.harness.close()
        rows.append({"run": "one call at a time", "spaces": "1 image, 1 splat", "wall_s": wall,
                     "limit_s": n * (li + ls), **calls})
        wall, calls, chat = timed_build(settings("two-splat", splat2))
        chat.harness.close()
        rows.append({"run": "chain, two splat Spaces", "spaces": "1 image, 2 splat",
                     "wall_s": wall, "limit_s": limit_s(n, li, ls, 2), **calls})
    result = {"image_s": li, "splat_s": ls, "subjects": n, "concurrency": 1,
              "load_average": os.getloadavg(), "cpus": os.cpu_count(),
              "num_gaussians": "32768", "python": platform.python_version(),
              "machine": platform.machine(), "rows": rows}
    atomic_write(RESULTS, (json.dumps(result, indent=2) + "\n").encode())
    print(f"{n} monuments; stand-ins run one event at a time; image {li:g} s, splat {ls:g} s")
    print(f"{'run':<40} {'wall (s)':>9} {'limit (s)':>10} {'ratio':>6} {'calls':>6}")
    for row in rows:
        lim = row.get("limit_s")
        ratio = f"{row['wall_s'] / lim:.2f}" if lim else "-"
        print(f"{row['run']:<40} {row['wall_s']:>9.2f} {lim or '-':>10} {ratio:>6} "
              f"{row['calls']:>6}")
    print(f"written: {RESULTS}")


def _subjects(n: int) -> list[str]:
    from spacesmith.agent.planner.intents import THEMES

    return list(THEMES["paris"][1][:n])


if __name__ == "__main__":
    main()
