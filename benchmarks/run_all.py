"""Run every benchmark and rewrite the README's benchmark table from their results.

    .venv/bin/python benchmarks/run_all.py            # run all, then rewrite the table
    .venv/bin/python benchmarks/run_all.py --table    # only rewrite the table from results/
    .venv/bin/python benchmarks/run_all.py --only splat,cli

Each benchmark measures spacesmith and its peer in the same run and writes
benchmarks/results/<name>.json; this script turns those files into one markdown table
between the ``<!-- bench:start -->`` and ``<!-- bench:end -->`` markers in README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# name -> (script, extra args); run in this order, cheapest first.
BENCHES: dict[str, tuple[str, list[str]]] = {
    "cli": ("bench_cli.py", []),
    "space_client": ("bench_space_client.py", []),
    "splat": ("bench_splat.py", []),
    "site": ("bench_site.py", []),
    "build": ("bench_build.py", []),
    "executor": ("bench_executor.py", []),
    "faults": ("bench_faults.py", ["--workers", "5"]),
    "faults_one": ("bench_faults.py", ["--per-role", "1", "--runs", "30", "--baseline", "2",
                                       "--workers", "5", "--out",
                                       str(RESULTS / "faults_one.json")]),
    "stuck": ("bench_stuck.py", []),
    "mcp": ("bench_mcp.py", []),
    "llm": ("bench_llm.py", []),
}

Row = tuple[str, str, str, str, str]  # what, spacesmith, peer, peer figure, ratio / target


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _s(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def rows_space_client(d: dict[str, Any]) -> list[Row]:
    per, cold = d["per_call_s"], d["cold_start_s"]
    return [
        ("Space call (stand-in, median)", _s(per["spacesmith"]), "gradio_client `predict`",
         _s(per["gradio_client"]), f"{d['per_call_ratio']:.2f}× (≤ {d['per_call_target']}×)"),
        ("`spaces call` cold start", _s(cold["spacesmith"]), "fresh gradio_client process",
         _s(cold["gradio_client"]),
         f"{d['cold_start_ratio']:.2f}× (≤ {d['cold_start_target']}×)"),
    ]


def rows_cli(d: dict[str, Any]) -> list[Row]:
    m = d["median_s"]
    helps, info = m["spacesmith --help"], m["spacesmith splat info (2k splats)"]
    smol, grc = m["python -c 'import smolagents'"], m["python -c 'import gradio_client'"]
    return [
        ("`spacesmith --help` cold start", _s(helps), "`import smolagents`", _s(smol),
         f"{helps / smol:.2f}×"),
        ("`splat info` cold start", _s(info), "`import gradio_client`", _s(grc),
         f"{info / grc:.2f}×"),
    ]


def rows_splat(d: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    for r in d["rows"]:
        ours, theirs = r["ours"], r["theirs"]
        what = f"`splat convert` {r['case']} → .{r['format']}"
        mine = (f"{_s(ours['time_s'])}, {ours['out_bytes'] / 1e6:.2f} MB, "
                f"{ours['peak_rss_mb']:.0f} MB RSS ({r['memory_vs_input']:.1f}× input)")
        peer = (f"{_s(theirs['time_s'])}, {theirs['out_bytes'] / 1e6:.2f} MB, "
                f"{theirs['peak_rss_mb']:.0f} MB RSS")
        out.append((what, mine, r["peer"], peer,
                    f"{r['time_ratio']:.2f}× (≤ {r['target_ratio']}×)"))
    return out


def rows_site(d: dict[str, Any]) -> list[Row]:
    by = {r["variant"]: r for r in d["results"]}
    if "spz" not in by or "ply" not in by:
        return []
    spz, ply = by["spz"], by["ply"]
    items = spz["items"]
    return [
        (f"site payload, {items} items", f"{spz['total_bytes'] / 1e6:.1f} MB (.spz)",
         "same site with .ply", f"{ply['total_bytes'] / 1e6:.1f} MB",
         f"{spz['total_bytes'] / ply['total_bytes']:.2f}×"),
        ("time to first splat (software WebGL)", f"{spz['first_draw_ms_median']:.0f} ms",
         "same site with .ply", f"{ply['first_draw_ms_median']:.0f} ms",
         f"{spz['first_draw_ms_median'] / ply['first_draw_ms_median']:.2f}×"),
    ]


def rows_build(d: dict[str, Any]) -> list[Row]:
    by = {r["run"]: r for r in d["rows"]}
    chain, seq = by["chain"], by["one call at a time"]
    two, tweak = by["chain, two splat Spaces"], next(
        r for r in d["rows"] if "zoom out" in r["run"])
    n, li, ls = d["subjects"], d["image_s"], d["splat_s"]
    what = f"{n}-monument build, image {li:g} s + splat {ls:g} s, 1 event at a time per Space"
    return [
        (what, _s(chain["wall_s"]) + " (chain)", "limit min(Li,Ls)+n·max(Li,Ls)",
         _s(chain["limit_s"]), f"{chain['wall_s'] / chain['limit_s']:.2f}× (≤ 1.15×)"),
        ("same build, one call at a time", _s(seq["wall_s"]), "limit n·(Li+Ls)",
         _s(seq["limit_s"]), f"{seq['wall_s'] / seq['limit_s']:.2f}×"),
        ("same build, chain over two splat Spaces", _s(two["wall_s"]),
         "limit (ideal schedule)", _s(two["limit_s"]),
         f"{two['wall_s'] / two['limit_s']:.2f}× (≤ 30 s)"),
        ("rebuild after \"zoom out\"", _s(tweak["wall_s"]) + f" ({tweak['calls']} calls)",
         "full build", _s(chain["wall_s"]), f"{tweak['wall_s'] / chain['wall_s']:.3f}×"),
    ]


def rows_executor(d: dict[str, Any]) -> list[Row]:
    med, cpu = d["median_s"], d["median_cpu_s"]
    load = d.get("load_average") or [0.0]
    return [
        (f"offline Paris build, agent code in a jailed process ({d['steps']:g} steps, "
         f"median of {d['rounds']}, load {load[0]:.0f})",
         f"{_s(med['process'])}, {_s(cpu['process'])} CPU", "code run in-process (before)",
         f"{_s(med['in_process'])}, {_s(cpu['in_process'])} CPU",
         f"{d['ratio']:.2f}× wall, {d['cpu_ratio']:.2f}× CPU (≤ {d['target']}×)"),
    ]


def rows_faults(d: dict[str, Any]) -> list[Row]:
    faulty, base = d["faulty"], d["baseline"]
    return [
        (f"{d['items']}-monument builds at {d['rate'] * 100:.0f}% faults per call, "
         f"{d.get('per_role', 1)} Space(s) per role, call_timeout "
         f"{d['limits']['call_timeout']:g} s, hangs "
         + ("until the client gives up" if d["faults"]["hang_s"] == float("inf")
            else f"{d['faults']['hang_s']:g} s"),
         f"{faulty['succeeded']}/{faulty['runs']} correct sites, "
         f"median {_s(faulty['wall_median_s'])}, {faulty['retries']} retries",
         "fault-free builds", f"{base['succeeded']}/{base['runs']}, "
         f"median {_s(base['wall_median_s'])}",
         f"{faulty['wall_median_s'] / base['wall_median_s']:.2f}× time (≥ 99/100 runs)"),
    ]


def rows_faults_one(d: dict[str, Any]) -> list[Row]:
    """One Space per role: what counts is how each failure ends, not the success rate."""
    faulty, fails = d["faulty"], d["failures"]
    budget = d.get("hang_budget_s", 180.0)
    hung = [f["hang_to_end_s"] for f in fails if f.get("hang_to_end_s") is not None]
    clear = sum(1 for f in fails if f.get("one_line") and f.get("names_space"))
    longest = f"longest {max(hung):.0f} s from its first hang to the end" if hung else (
        "none after a hang")
    return [
        (f"same builds, 1 Space per role, every fault kind at {d['rate'] * 100:.0f}%",
         f"{faulty['succeeded']}/{faulty['runs']} correct sites, median "
         f"{_s(faulty['wall_median_s'])}, {faulty['faults_injected'].get('hang', 0)} hangs; "
         + (f"{len(fails)} failed, {clear} of them in one line naming the Space; {longest}"
            if fails else "no failure"),
         "hang budget: stall floor + two probes", f"{budget:.0f} s",
         (f"{len(hung)} failure(s) after a hang, "
          f"{sum(1 for h in hung if h <= budget + 30)} within the budget (+30 s of work)")
         if fails else "every hang survived by a probe (a stuck Space: next rows)"),
    ]


def rows_stuck(d: dict[str, Any]) -> list[Row]:
    """A stuck Space at the default limits, against the hang budget and a healthy peer."""
    by = {r["run"]: r for r in d["rows"]}
    budget = d["hang_budget_s"]
    only = next(r for name, r in by.items() if name.startswith("only Space, stuck after"))
    once = next(r for name, r in by.items() if name.startswith("only Space, stuck once"))
    two = next(r for name, r in by.items() if name.startswith("two splat Spaces, one"))
    peer = by["two healthy splat Spaces (peer)"]
    ok = "site ok" if once["exit_code"] == 0 and once["correct_site"] else "FAILED"
    return [
        ("only splat Space stuck (a function Gradio cannot stop), default limits",
         f"exit {only['exit_code']} in one line naming it; set aside "
         f"{only['first_stuck_to_aside_s']:.0f} s after the first stuck call was sent, run "
         f"over {only['first_stuck_to_end_s'] - only['first_stuck_to_aside_s']:.0f} s later",
         "hang budget (120 s stall + 2 × 30 s probes)", f"{budget:.0f} s",
         f"{only['first_stuck_to_aside_s'] / budget:.2f}× (call_timeout 900 s per try before)"),
        ("only splat Space stuck once", f"{ok}, {_s(once['wall_s'])} (cancelled, probe ran)",
         "-", "-", "-"),
        ("two splat Spaces, one stuck", f"{'site ok' if two['exit_code'] == 0 else 'FAILED'}, "
         f"{_s(two['wall_s'])}, stuck one set aside", "two healthy splat Spaces",
         _s(peer["wall_s"]), f"+{two['wall_s'] - peer['wall_s']:.0f} s (one stall budget)"),
    ]


def rows_mcp(d: dict[str, Any]) -> list[Row]:
    start, call, chain = d["startup_s"], d["cached_call_s"], d["chain_s"]
    return [
        ("`spacesmith mcp --offline` start (to `initialize`)", _s(start["spacesmith"]),
         "minimal server, same SDK", _s(start["minimal_sdk_server"]),
         f"{d['startup_ratio']:.2f}× (≤ {d['startup_target']:g}×)"),
        ("cached `call_space` over MCP (median)", _s(call["mcp"]),
         "same call in process", _s(call["in_process"]),
         f"+{d['protocol_overhead_s'] * 1000:.0f} ms "
         f"(≤ +{d['protocol_overhead_target_s'] * 1000:.0f} ms)"),
        (f"`generate_splats`, {d['subjects']} subjects, again", _s(chain["cached"]),
         "the first call", _s(chain["first"]),
         f"{d['chain_ratio']:.2f}× (≤ {d['chain_target']:g}×)"),
    ]
def rows_llm(d: dict[str, Any]) -> list[Row]:
    def peer(row: dict[str, Any]) -> str:
        worst = max(row["smolagents_openai_s"], row["smolagents_hub_s"])
        return f"> {_s(worst)} (cut)" if worst >= d["cap_s"] else _s(worst)

    rows: list[Row] = []
    for row in d["failures"]:
        mine = max(row["spacesmith_openai_s"], row["spacesmith_hub_s"])
        rows.append((f"model server: {row['case']} (model_timeout {d['model_timeout_s']:g} s)",
                     f"call ends in {_s(mine)}, one line naming the server",
                     "smolagents OpenAIServerModel / InferenceClientModel", peer(row),
                     f"budget {_s(row['budget_s'])}"))
    h = d["healthy"]
    rows.append(("model call overhead (local server, median)", _s(h["chatmodel_median_s"]),
                 "bare httpx POST", _s(h["httpx_median_s"]),
                 f"+{_s(h['chatmodel_median_s'] - h['httpx_median_s'])}"))
    return rows


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "space_client": rows_space_client, "cli": rows_cli, "splat": rows_splat,
    "site": rows_site, "build": rows_build, "executor": rows_executor, "faults": rows_faults,
    "faults_one": rows_faults_one, "stuck": rows_stuck,
    "mcp": rows_mcp, "llm": rows_llm,
}


def table() -> str:
    lines = ["| what | spacesmith | peer (same run) | peer | ratio (target) |",
             "|---|---|---|---|---|"]
    missing = []
    for name, make in ROWS.items():
        data = _load(name)
        if data is None:
            missing.append(name)
            continue
        try:
            lines += ["| " + " | ".join(row) + " |" for row in make(data)]
        except (KeyError, StopIteration, TypeError, ZeroDivisionError) as exc:
            missing.append(f"{name} (unreadable: {exc!r})")
    if missing:
        lines.append("")
        lines.append("Not measured yet: " + ", ".join(missing) + ".")
    return "\n".join(lines)


def rewrite_readme(text: str) -> None:
    readme = README.read_text()
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md has no {START} … {END} section to rewrite")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", action="store_true", help="only rewrite the table")
    parser.add_argument("--only", default="", help="comma-separated benchmark names to run")
    args = parser.parse_args()
    if not args.table:
        wanted = [n for n in args.only.split(",") if n] or list(BENCHES)
        for name in wanted:
            script, extra = BENCHES[name]
            print(f"== {name}: {script}", flush=True)
            done = subprocess.run([sys.executable, str(HERE / script), *extra], check=False)
            if done.returncode != 0:
                print(f"benchmark {name} failed with exit code {done.returncode}",
                      file=sys.stderr)
                return 1
    text = table()
    rewrite_readme(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
