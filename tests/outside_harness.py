"""Start outside Spaces (tests/outside_spaces.py) in their own processes and run
``spacesmith run GOAL.toml --json`` against them, timed. Used by
tests/test_outside_spaces.py and by hand:

    python tests/outside_harness.py OUT_DIR splat=stuck-sync [--stall 120] [--splat2 ok]
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SPACES = HERE / "outside_spaces.py"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Space:
    def __init__(self, role: str, variant: str = "ok", latency: float = 0.3,
                 tick: float = 2.0, port: int | None = None, wait: bool = True) -> None:
        self.role, self.variant = role, variant
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
        self.proc = subprocess.Popen(
            [sys.executable, str(SPACES), role, "--port", str(self.port), "--variant", variant,
             "--latency", str(latency), "--tick", str(tick)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            start_new_session=True)
        if wait:
            self.ready()

    def ready(self) -> Space:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(self.url + "/gradio_api/info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"outside Space {self.role}/{self.variant} did not start")
            time.sleep(0.3)
        return self

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def __enter__(self) -> Space:
        return self

    def __exit__(self, *a: object) -> None:
        self.close()


@dataclass
class Run:
    code: int
    seconds: float
    doc: dict | None
    stdout: str
    stderr: str
    out: Path

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Error")]


def write_goal(out: Path, image: str | list[str], splat: str | list[str], *,
               subjects: list[str] | None = None, limits: dict | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    subjects = subjects or ["Eiffel Tower", "Louvre", "Pantheon", "Sacre-Coeur",
                            "Notre-Dame", "Arc de Triomphe"]
    lines = ['goal = "build a Paris monuments gallery"',
             "subjects = " + json.dumps(subjects, ensure_ascii=False),
             'model = "offline"', 'output = "run"', 'num_gaussians = "32768"',
             "[spaces]", "image = " + json.dumps(image), "splat = " + json.dumps(splat)]
    if limits:
        lines.append("[limits]")
        lines += [f"{k} = {v}" for k, v in limits.items()]
    goal = out / "goal.toml"
    goal.write_text("\n".join(lines) + "\n")
    return goal


def run_goal(goal: Path, *, timeout: float = 1200, extra: list[str] | None = None) -> Run:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    env.pop("HF_TOKEN", None)
    start = time.monotonic()
    proc = subprocess.run([str(BIN / "spacesmith"), "run", str(goal), "--json", *(extra or [])],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=goal.parent)
    seconds = time.monotonic() - start
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = None
    return Run(proc.returncode, seconds, doc, proc.stdout, proc.stderr, goal.parent / "run")


def journal_kinds(run_dir: Path) -> list[dict]:
    rows = []
    for path in run_dir.rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                rows.append(json.loads(line))
    return rows


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--image", default="ok")
    p.add_argument("--splat", default="ok")
    p.add_argument("--splat2", default=None)
    p.add_argument("--latency", type=float, default=0.3)
    p.add_argument("--stall", type=float, default=None)
    a = p.parse_args()
    spaces = [Space("image", a.image, wait=False), Space("splat", a.splat, a.latency, wait=False)]
    if a.splat2:
        spaces.append(Space("splat", a.splat2, a.latency, wait=False))
    for s in spaces:
        s.ready()
    t0 = time.strftime("%H:%M:%S")
    try:
        splat = [s.url for s in spaces[1:]] if a.splat2 else spaces[1].url
        limits = {"stall_after_s": a.stall} if a.stall else None
        goal = write_goal(Path(a.out), spaces[0].url, splat, limits=limits)
        r = run_goal(goal)
        print(json.dumps({"exit": r.code, "seconds": round(r.seconds, 1), "doc": r.doc,
                          "error_lines": r.error_lines, "started": t0,
                          "site_index": (r.out / "site" / "index.html").exists()}, indent=1))
        Path(a.out, "stderr.txt").write_text(r.stderr)
        Path(a.out, "stdout.txt").write_text(r.stdout)
    finally:
        for s in spaces:
            s.close()
