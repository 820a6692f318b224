"""Fault injection: N headless six-monument builds against stand-ins that fail at a given rate.

    .venv/bin/python benchmarks/bench_faults.py [--runs 100] [--rate 0.3] [--workers 2]
        [--per-role 2]

Every run is ``spacesmith run GOAL.toml`` in process (the same function the CLI calls), in
its own workspace, against stand-in Spaces that inject every fault kind (503, 500, error
events, quota errors, hangs, slow calls, truncated downloads, a corrupt PLY from the splat
Space) at ``--rate`` per injection point. The stand-ins run one event at a time, as real
Spaces do, and ``--per-role`` of them play each role, each with its own dice. The limits are
the defaults (``call_timeout`` 900 s, stall budget max(120 s, 3x expected)), and a hang lasts
until the client gives up, so a hang costs one stall budget: the call moves to the other Space
of the role, and the hung one is set aside. Fault-free baseline builds run in the same
workers, interleaved, on their own stand-ins.

A run counts as a success only when its files say so: ``site/index.html`` exists, the gallery
has six items, and every item's web splat reads, stands upright and has a sane Gaussian count.
A failed run must end with a one-line message naming the Space and the cause, and a rerun
against fault-free stand-ins must reuse every call the failed run finished (nothing lost).

Writes benchmarks/results/faults.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the verdicts live with the tests (tests/fixtures/verify.py)
os.environ["PYTHONPATH"] = os.pathsep.join(  # and the worker processes see them too
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
RESULTS = Path(__file__).resolve().parent / "results" / "faults.json"
ITEMS = 6


def _build(goal_path: Path) -> tuple[dict[str, Any], float]:
    from spacesmith.agent.runs.headless import run_goal_file

    lines: list[str] = []
    start = time.perf_counter()
    try:
        run_goal_file(goal_path, as_json=True, echo=lines.append)
    except Exception as exc:  # a crash is a finding, recorded with its one line
        return {"success": False, "final_answer": f"CRASH {type(exc).__name__}: {exc}"}, (
            time.perf_counter() - start)
    return json.loads(lines[-1]), time.perf_counter() - start


def _one_run(job: dict[str, Any], spaces: Any, clean: Any, root: Path) -> dict[str, Any]:
    from tests.fixtures.verify import call_stats, finished_keys, goal_toml, journal, site_problems

    workspace = root / f"run-{job['index']:03d}"
    goal = root / f"goal-{job['index']:03d}.toml"
    limits = {k: job[k] for k in ("call_timeout", "call_attempts", "retry_backoff_s")}
    goal.write_text(goal_toml(image=spaces.image_urls, splat=spaces.splat_urls,
                              output=workspace, num_gaussians=job["num_gaussians"], **limits),
                    encoding="utf-8")
    before = [len(server.faults.injected) for server in spaces.servers]
    summary, wall = _build(goal)
    injected = Counter(kind for server, n in zip(spaces.servers, before, strict=True)
                       for kind in server.faults.injected[n:])
    problems = site_problems(workspace, items=ITEMS, max_count=int(job["num_gaussians"]))
    events = journal(workspace)
    row: dict[str, Any] = {
        "index": job["index"], "rate": job["rate"], "wall_s": round(wall, 3),
        "reported_success": bool(summary.get("success")), "correct_site": not problems,
        "problems": problems, "injected": dict(injected), **call_stats(events),
    }
    if not problems and summary.get("success"):
        return row
    message = str(summary.get("final_answer", ""))
    row["message"] = message
    row.update(_hang_budget(events))
    row["message_one_line"] = "\n" not in message and len(message) <= 600
    row["message_names_space"] = "Space '" in message
    # nothing lost: a rerun on fault-free stand-ins reuses every call this run finished
    done = finished_keys(events)
    goal.write_text(goal_toml(image=clean.image_urls, splat=clean.splat_urls, output=workspace,
                              num_gaussians=job["num_gaussians"], **limits), encoding="utf-8")
    rerun, _ = _build(goal)
    after = journal(workspace)[len(events):]
    reused = {str(e["key"]) for e in after if e.get("kind") == "call" and e.get("cached")}
    row["rerun_success"] = bool(rerun.get("success")) and not site_problems(
        workspace, items=ITEMS, max_count=int(job["num_gaussians"]))
    row["finished_before_failure"] = len(done)
    row["lost_calls"] = sorted(done - reused)
    return row


def _hang_budget(events: list[dict[str, Any]]) -> dict[str, Any]:
    """How a failed run's hangs went: how many calls stalled, and the time from the start of
    the first stalled call to the run's last event (the hang budget it spent)."""
    from tests.fixtures.verify import first_stall_sent, stalled_calls

    first = first_stall_sent(events)
    if first is None:
        return {"stalls": 0, "hang_to_end_s": None}
    end = max(float(e["ts"]) for e in events if "ts" in e)
    return {"stalls": len(stalled_calls(events)), "hang_to_end_s": round(end - first, 1)}


class Group:
    """``per_role`` image and ``per_role`` splat stand-ins, each with its own dice."""

    def __init__(self, per_role: int, dice: Any) -> None:
        from spacesmith.tools.standins import start_standin

        self.servers: list[Any] = []
        try:
            for k in range(per_role):
                self.servers.append(start_standin("image", faults=dice(2 * k)))
                self.servers.append(start_standin("splat", faults=dice(2 * k + 1)))
        except BaseException:
            self.__exit__()
            raise
        images = [s.url for s in self.servers[0::2]]
        splats = [s.url for s in self.servers[1::2]]
        self.image_urls: Any = images if per_role > 1 else images[0]
        self.splat_urls: Any = splats if per_role > 1 else splats[0]

    def __enter__(self) -> Group:
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.close()


def worker(jobs: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Run ``jobs`` one after another on this process's stand-ins (faulty and clean)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    progress = os.fdopen(os.dup(1), "w")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # smolagents logs each failed step and Gradio a traceback for every
    os.dup2(quiet, 2)  # injected error; the rows and the table say it all
    from spacesmith.tools.standins import Faults

    first = jobs[0]
    rows = []

    def dice(k: int) -> Faults:
        return Faults(rate=first["fault_rate"], seed=seed * 100 + k, hang_s=first["hang_s"],
                      slow_s=first["slow_s"], quota_wait_s=first["quota_wait_s"])

    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp, \
            Group(first["per_role"], dice) as spaces, Group(1, lambda k: Faults()) as clean, \
            contextlib.redirect_stderr(io.StringIO()):
        for job in jobs:
            row = _one_run(job, spaces if job["rate"] > 0 else clean, clean, Path(tmp))
            rows.append(row)
            status = "ok" if row["correct_site"] and row["reported_success"] else "FAILED"
            why = f": {row.get('message') or row['problems']}" if status == "FAILED" else ""
            print(f"  run {job['index']:3d} rate {job['rate']:.2f}: {status} "
                  f"{row['wall_s']:.1f} s, {row['retries']} retries{why}", file=progress,
                  flush=True)
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    walls = sorted(r["wall_s"] for r in rows)
    ok = [r for r in rows if r["correct_site"] and r["reported_success"]]
    injected: Counter[str] = Counter()
    for r in rows:
        injected.update(r["injected"])
    return {
        "runs": len(rows), "succeeded": len(ok),
        "wall_median_s": round(statistics.median(walls), 2) if walls else None,
        "wall_p90_s": round(walls[math.ceil(0.9 * len(walls)) - 1], 2) if walls else None,
        "wall_mean_s": round(statistics.fmean(walls), 2) if walls else None,
        "retries": sum(r["retries"] for r in rows),
        "recalls": sum(r["recalls"] for r in rows),
        "faults_injected": dict(sorted(injected.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.3, help="fault chance per point")
    parser.add_argument("--baseline", type=int, default=6, help="fault-free runs")
    parser.add_argument("--workers", type=int, default=2, help="processes running builds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-role", type=int, default=2,
                        help="stand-in Spaces per role, each with its own faults")
    parser.add_argument("--call-timeout", type=float, default=900.0)
    parser.add_argument("--call-attempts", type=int, default=3)
    parser.add_argument("--retry-backoff", type=float, default=1.0)
    parser.add_argument("--hang-s", type=float, default=math.inf,
                        help="a hang lasts this long (default: until the client gives up)")
    parser.add_argument("--slow-s", type=float, default=1.0, help="a slow call is this late")
    parser.add_argument("--quota-wait", type=int, default=1, help="a quota error's wait, s")
    parser.add_argument("--num-gaussians", default="32768")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from spacesmith.agent.calls.pool import PROBES
    from spacesmith.tools.spaces.stall import DEFAULT_FLOOR_S, DEFAULT_RETRY_FLOOR_S

    common = {"fault_rate": args.rate, "call_timeout": args.call_timeout,
              "call_attempts": args.call_attempts, "retry_backoff_s": args.retry_backoff,
              "hang_s": args.hang_s, "slow_s": args.slow_s, "quota_wait_s": args.quota_wait,
              "num_gaussians": args.num_gaussians, "per_role": args.per_role}
    jobs = [{"index": i, "rate": args.rate, **common} for i in range(args.runs)]
    # baseline runs spread evenly through the faulty ones, so both see the same machine load
    step = max(1, args.runs // max(1, args.baseline))
    for b in range(args.baseline):
        jobs.insert(min(len(jobs), b * (step + 1)),
                    {"index": args.runs + b, "rate": 0.0, **common})
    chunks = [jobs[w::args.workers] for w in range(args.workers)]
    started = time.perf_counter()
    print(f"{args.runs} runs at {args.rate:.0%} + {args.baseline} fault-free, "
          f"{args.workers} workers", flush=True)
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(worker, chunk, args.seed * 1000 + w)
                   for w, chunk in enumerate(chunks) if chunk]
        for future in futures:
            rows.extend(future.result())
    total = time.perf_counter() - started
    faulty = sorted((r for r in rows if r["rate"] > 0), key=lambda r: r["index"])
    base = sorted((r for r in rows if r["rate"] == 0), key=lambda r: r["index"])
    f_sum, b_sum = _summary(faulty), _summary(base)
    failures = [{"run": r["index"], "wall_s": r["wall_s"], "message": r.get("message", ""),
                 "problems": r["problems"], "one_line": r.get("message_one_line"),
                 "names_space": r.get("message_names_space"),
                 "stalls": r.get("stalls"), "hang_to_end_s": r.get("hang_to_end_s"),
                 "rerun_success": r.get("rerun_success"), "lost_calls": r.get("lost_calls")}
                for r in faulty if not (r["correct_site"] and r["reported_success"])]
    extra = (round(f_sum["wall_mean_s"] - b_sum["wall_mean_s"], 2)
             if f_sum["wall_mean_s"] is not None and b_sum["wall_mean_s"] is not None else None)
    result = {
        "rate": args.rate, "seed": args.seed, "workers": args.workers,
        "per_role": args.per_role,
        "hang_budget_s": DEFAULT_FLOOR_S + PROBES * DEFAULT_RETRY_FLOOR_S,
        "limits": {"call_timeout": args.call_timeout, "call_attempts": args.call_attempts,
                   "retry_backoff_s": args.retry_backoff},
        "faults": {"hang_s": args.hang_s, "slow_s": args.slow_s,
                   "quota_wait_s": args.quota_wait, "kinds": "all"},
        "num_gaussians": args.num_gaussians, "items": ITEMS,
        "faulty": f_sum, "baseline": b_sum, "extra_time_mean_s": extra,
        "failures": failures, "total_s": round(total, 1),
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from spacesmith.agent.runs.workspace import atomic_write

    atomic_write(args.out, (json.dumps(result, indent=2, ensure_ascii=False) + "\n").encode())
    print(render_table(result))
    print(f"\nwrote {args.out} in {total:.0f} s")
    sys.exit(0 if f_sum["succeeded"] >= 0.99 * f_sum["runs"] or args.per_role < 2 else 1)


def render_table(result: dict[str, Any]) -> str:
    """The results as a Markdown table (and the failures, one line each)."""
    f, b = result["faulty"], result["baseline"]
    lines = [
        f"Six-monument builds, {result.get('per_role', 1)} Space(s) per role, one event at a "
        f"time each, every fault kind at {result['rate']:.0%} per injection point "
        f"(call_timeout {result['limits']['call_timeout']:g} s, hang "
        f"{result['faults']['hang_s']:g} s, slow {result['faults']['slow_s']:g} s)",
        "",
        "| runs | correct site | retries | re-calls | median (s) | p90 (s) | mean (s) "
        "| extra vs fault-free (s) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {f['runs']} at {result['rate']:.0%} | {f['succeeded']}/{f['runs']} | "
        f"{f['retries']} | {f['recalls']} | {f['wall_median_s']} | {f['wall_p90_s']} | "
        f"{f['wall_mean_s']} | +{result['extra_time_mean_s']} |",
        f"| {b['runs']} fault-free | {b['succeeded']}/{b['runs']} | {b['retries']} | "
        f"{b['recalls']} | {b['wall_median_s']} | {b['wall_p90_s']} | {b['wall_mean_s']} | - |",
        "",
        "faults injected: " + ", ".join(f"{k} {v}" for k, v in f["faults_injected"].items()),
    ]
    for fail in result["failures"]:
        lost = fail["lost_calls"]
        hang = (f", {fail['stalls']} stalled call(s), {fail['hang_to_end_s']:.0f} s from the "
                f"first hang to the end" if fail.get("hang_to_end_s") is not None else "")
        lines.append(f"- run {fail['run']} failed after {fail.get('wall_s', 0):.0f} s{hang}: "
                     f"{fail['message'] or fail['problems']} "
                     f"(rerun {'ok' if fail['rerun_success'] else 'FAILED'}, "
                     f"{len(lost) if lost is not None else '?'} finished calls lost)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
