"""spacesmith's Space client against gradio_client, on the same local stand-in Space.

    .venv/bin/python benchmarks/bench_space_client.py [--calls 40] [--starts 7]

Measures, on the image stand-in (``/generate``, 256x256, served by a separate
``spacesmith spaces serve`` process):

- per call: the median wall time of ``SpaceClient.call`` (call v2, poll, download) against
  ``gradio_client.Client.predict`` (which also downloads), calls interleaved, after warm-up;
  the ratio is the median of the per-round ratios (each pair ran under the same load);
  a bare ``POST call/v2`` + ``GET`` poll (no download) is shown for reference;
- cold start: the median wall time of a fresh ``spacesmith spaces call …`` process against a
  fresh ``python -c 'from gradio_client import Client; Client(url).predict(…)'``.

Prints a markdown table and writes benchmarks/results/space_client.json.
Targets: per call <= 0.25x gradio_client, cold start <= 0.6x.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "space_client.json"
ARGS = {"prompt": "Arc de Triomphe", "width": 256, "height": 256}
TARGET_CALL, TARGET_COLD = 0.25, 0.6


def start_server() -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", SPACESMITH_FAULTS="")
    proc = subprocess.Popen([sys.executable, "-m", "spacesmith", "spaces", "serve"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # "image: http://127.0.0.1:PORT/agents.md"
    if not line.startswith("image: "):
        proc.kill()
        raise SystemExit(f"the stand-ins did not start: {line!r}")
    return proc, line.split(" ", 1)[1].removesuffix("/agents.md")


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def per_call(url: str, calls: int) -> dict[str, float]:
    import httpx
    from gradio_client import Client

    from spacesmith.tools.spaces.client import SpaceClient

    out = Path(tempfile.mkdtemp(prefix="bench-"))
    ours = SpaceClient.connect(url, token="")
    theirs = Client(url, verbose=False)
    bare = httpx.Client()

    def bare_call() -> None:
        event = bare.post(f"{url}/gradio_api/call/v2/generate", json=ARGS).json()["event_id"]
        bare.get(f"{url}/gradio_api/call/generate/{event}")

    runs: dict[str, list[float]] = {"spacesmith": [], "gradio_client": [], "bare": []}
    jobs = {
        "spacesmith": lambda: ours.call("/generate", ARGS, out_dir=out),
        "gradio_client": lambda: theirs.predict(api_name="/generate", **ARGS),
        "bare": bare_call,
    }
    for _ in range(3):  # warm-up: connections, server caches
        for job in jobs.values():
            job()
    for _ in range(calls):
        for name, job in jobs.items():
            runs[name].append(timed(job))
    ours.close()
    theirs.close()
    bare.close()
    medians = {name: statistics.median(values) for name, values in runs.items()}
    # Calls are interleaved, so each round's pair saw the same machine load: the median of
    # the per-round ratios is steadier than the ratio of medians on a shared machine.
    medians["paired_ratio"] = statistics.median(
        a / b for a, b in zip(runs["spacesmith"], runs["gradio_client"], strict=True))
    return medians


def cold_start(url: str, starts: int) -> dict[str, float]:
    out = tempfile.mkdtemp(prefix="bench-cold-")
    spacesmith = [str(Path(sys.executable).parent / "spacesmith"), "spaces", "call", url,
                  "/generate", *(f"{k}={json.dumps(v)}" for k, v in ARGS.items()), "-o", out,
                  "--json"]
    script = (f"from gradio_client import Client; Client({url!r}, verbose=False)"
              f".predict(api_name='/generate', **{ARGS!r})")
    commands = {"spacesmith": spacesmith, "gradio_client": [sys.executable, "-c", script]}
    env = dict(os.environ, HF_TOKEN="")  # no token lookups
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the page cache once
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=out)
    for _ in range(starts):
        for name, command in commands.items():
            runs[name].append(timed(lambda c=command: subprocess.run(
                c, check=True, capture_output=True, env=env, cwd=out)))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    medians["paired_ratio"] = statistics.median(
        a / b for a, b in zip(runs["spacesmith"], runs["gradio_client"], strict=True))
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="timed calls per client")
    parser.add_argument("--starts", type=int, default=7, help="timed process starts per tool")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    server, url = start_server()
    try:
        call = per_call(url, args.calls)
        cold = cold_start(url, args.starts)
    finally:
        server.terminate()
        server.wait(timeout=30)
    call_ratio = call.pop("paired_ratio")
    cold_ratio = cold.pop("paired_ratio")
    import gradio_client

    result = {
        "per_call_s": call, "per_call_ratio": call_ratio, "per_call_target": TARGET_CALL,
        "bare_http_ratio": call["bare"] / call["gradio_client"],
        "cold_start_s": cold, "cold_start_ratio": cold_ratio, "cold_start_target": TARGET_COLD,
        "calls": args.calls, "starts": args.starts, "endpoint": "/generate", "arguments": ARGS,
        "gradio_client": gradio_client.__version__, "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    ok = lambda r, t: "yes" if r <= t else "NO"  # noqa: E731
    print("| measure | spacesmith | gradio_client | ratio (median of pairs) | target | met |")
    print("|---|---|---|---|---|---|")
    print(f"| per call (median of {args.calls}) | {call['spacesmith'] * 1000:.1f} ms | "
          f"{call['gradio_client'] * 1000:.1f} ms | {call_ratio:.2f}x | <= {TARGET_CALL}x | "
          f"{ok(call_ratio, TARGET_CALL)} |")
    print(f"| cold start (median of {args.starts}) | {cold['spacesmith'] * 1000:.0f} ms | "
          f"{cold['gradio_client'] * 1000:.0f} ms | {cold_ratio:.2f}x | <= {TARGET_COLD}x | "
          f"{ok(cold_ratio, TARGET_COLD)} |")
    print(f"\nbare call v2 + poll, no download: {call['bare'] * 1000:.1f} ms "
          f"({result['bare_http_ratio']:.2f}x gradio_client). Written to {RESULTS}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
