"""A stuck Space at the default limits: how long a run spends on it, against the hang budget.

    .venv/bin/python benchmarks/bench_stuck.py [--subjects 6]

Three six-monument builds through ``spacesmith run GOAL.toml`` (in process), at the default
limits (stall floor 120 s, probation floor 30 s, ``call_timeout`` 900 s), against stand-ins
that run one event at a time; the splat Space's function sleeps like one Gradio cannot stop
(the ``stuck`` fault kind: its worker stays held after the client leaves, until cancelled):

- **only Space, stuck on every call after the first**: the run must end with one line
  naming the Space, within the hang budget (one stall budget and two probes, 180 s) of the
  first stuck call, keeping what finished and building nothing;
- **only Space, stuck once** (its second call): the probe runs once the stuck event is
  cancelled, and the build finishes;
- **two splat Spaces, one stuck from its second call**: it is set aside and the other
  finishes the build; the peer is the same build with two healthy Spaces.

Writes benchmarks/results/stuck.json and prints a table.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the goal-file and journal helpers live with the tests
RESULTS = Path(__file__).resolve().parent / "results" / "stuck.json"


def _run(root: Path, name: str, image: str, splat: str | list[str],
         subjects: list[str]) -> dict[str, Any]:
    from spacesmith.agent.runs.headless import run_goal_file
    from tests.fixtures.verify import (
        first_stall_sent,
        goal_toml,
        journal,
        site_problems,
        stalled_calls,
    )

    workspace = root / name
    goal = root / f"{name}.toml"
    goal.write_text(goal_toml(image=image, splat=splat, output=workspace, subjects=subjects),
                    encoding="utf-8")
    lines: list[str] = []
    started = time.perf_counter()
    code = run_goal_file(goal, as_json=True, echo=lines.append)
    wall = time.perf_counter() - started
    summary = json.loads(lines[-1])
    events = journal(workspace)
    stalls = stalled_calls(events)
    first_stuck = first_stall_sent(events)
    end = max(float(e["ts"]) for e in events)
    asides = [float(e["ts"]) for e in events if e.get("kind") == "set_aside"]
    return {
        "run": name, "exit_code": code, "wall_s": round(wall, 1),
        "message": None if code == 0 else summary.get("error"),
        "correct_site": not site_problems(workspace, items=len(subjects), max_count=32768),
        "stalled_calls": len(stalls),
        "set_aside": [e["space"] for e in events if e.get("kind") == "set_aside"],
        "first_stuck_to_end_s": None if first_stuck is None else round(end - first_stuck, 1),
        "first_stuck_to_aside_s": None if first_stuck is None or not asides else round(
            min(asides) - first_stuck, 1),
    }


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=6)
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from spacesmith.agent.calls.pool import PROBES
    from spacesmith.agent.runs.workspace import atomic_write
    from spacesmith.tools.spaces.stall import DEFAULT_FLOOR_S, DEFAULT_RETRY_FLOOR_S
    from spacesmith.tools.standins import Faults, start_standin
    from tests.fixtures.verify import SUBJECTS

    subjects = list(SUBJECTS[:args.subjects])
    budget = DEFAULT_FLOOR_S + PROBES * DEFAULT_RETRY_FLOOR_S
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-stuck-") as tmp:
        root = Path(tmp)
        image = start_standin("image", latency=0.5)
        servers = [image]
        try:
            def splat(faults: Faults | None = None) -> str:
                server = start_standin("splat", latency=1.0, faults=faults or Faults())
                servers.append(server)
                return server.url

            stuck = Faults(plan=("ok",), rate=1.0, kinds=("stuck",))
            rows.append(_run(root, "only Space, stuck after its first call", image.url,
                             splat(stuck), subjects))
            rows.append(_run(root, "only Space, stuck once (its second call)", image.url,
                             splat(Faults(plan=("ok", "stuck"))), subjects))
            rows.append(_run(root, "two splat Spaces, one stuck after its first call",
                             image.url, [splat(Faults(plan=("ok",), rate=1.0,
                                                      kinds=("stuck",))), splat()], subjects))
            rows.append(_run(root, "two healthy splat Spaces (peer)", image.url,
                             [splat(), splat()], subjects))
        finally:
            for server in servers:
                server.close()
    result = {"subjects": len(subjects), "hang_budget_s": budget,
              "limits": {"stall_after_s": DEFAULT_FLOOR_S, "probation_floor_s":
                         DEFAULT_RETRY_FLOOR_S, "probes": PROBES, "call_timeout": 900.0},
              "load_average": os.getloadavg(), "python": platform.python_version(),
              "machine": platform.machine(), "rows": rows}
    atomic_write(RESULTS, (json.dumps(result, indent=2, ensure_ascii=False) + "\n").encode())
    print(f"hang budget {budget:g} s (stall floor {DEFAULT_FLOOR_S:g} s + {PROBES} probes of "
          f"{DEFAULT_RETRY_FLOOR_S:g} s)")
    for row in rows:
        print(f"- {row['run']}: exit {row['exit_code']}, {row['wall_s']} s, "
              f"first stuck call to set aside {row['first_stuck_to_aside_s']} s, to the end "
              f"{row['first_stuck_to_end_s']} s, "
              f"set aside {row['set_aside']}; {row['message'] or 'site ok'}")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
