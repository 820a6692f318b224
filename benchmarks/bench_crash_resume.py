"""Crash and resume, longer: R six-monument builds, each SIGKILLed K times at seeded moments.

    .venv/bin/python benchmarks/bench_crash_resume.py [--rounds 5] [--kills 3] [--latency 0.4]

Each round runs ``spacesmith run GOAL.toml`` as a child process against stand-ins with a fixed
added latency (so kills land mid-call), kills it at moments chosen by watching the journal and
the web splats, then runs the same command to the end. Reported per round: kills that landed,
exit code, POSTs counted at the stand-ins vs calls started in the journal, finished calls
POSTed again (must be 0), corrupt files or temporaries left (must be none).

Writes benchmarks/results/crash_resume.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the driver lives with the tests

from spacesmith.agent.runs.workspace import atomic_write  # noqa: E402
from tests.crash_driver import counted_standins, crash_round  # noqa: E402
from tests.fixtures.verify import SUBJECTS, site_problems  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "crash_resume.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with counted_standins(args.latency) as spaces, tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            root = Path(tmp) / f"round-{r}"
            root.mkdir()
            result = crash_round(spaces, root, seed=args.seed * 100 + r, kills=args.kills)
            problems = site_problems(root / "run", items=len(SUBJECTS), max_count=32768)
            rows.append({
                "round": r, "kills": sum(k.killed for k in result.kills),
                "moments": [f"{k.moment.kind}:{k.moment.n}" for k in result.kills],
                "exit_code": result.exit_code, "posts": result.posts,
                "calls_started": result.starts, "calls_finished": result.finished,
                "repeated_finished_calls": result.repeats,
                "bad_files": result.bad_files + [f for k in result.kills for f in k.bad_files],
                "site_problems": problems, "wall_s": round(result.wall_s, 1),
            })
            print(f"  round {r}: {rows[-1]['kills']} kills, exit {result.exit_code}, "
                  f"{len(result.repeats)} repeats, {len(rows[-1]['bad_files'])} bad files",
                  flush=True)
    ok = [row for row in rows if row["exit_code"] == 0 and not row["repeated_finished_calls"]
          and not row["bad_files"] and not row["site_problems"]]
    result_data = {"rounds": len(rows), "ok": len(ok), "latency_s": args.latency,
                   "kills_per_round": args.kills, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(result_data, indent=2) + "\n").encode())
    print("\n| rounds | kills landed | resumed to exit 0 | POSTs / calls started "
          "| finished calls POSTed again | corrupt files / temporaries |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(rows)} | {sum(r['kills'] for r in rows)} | "
          f"{sum(r['exit_code'] == 0 for r in rows)}/{len(rows)} | "
          f"{sum(r['posts'] for r in rows)} / {sum(r['calls_started'] for r in rows)} | "
          f"{sum(len(r['repeated_finished_calls']) for r in rows)} | "
          f"{sum(len(r['bad_files']) for r in rows)} |")
    print(f"\nwrote {args.out}")
    sys.exit(0 if len(ok) == len(rows) else 1)


if __name__ == "__main__":
    main()
