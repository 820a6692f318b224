"""Kill ``spacesmith run GOAL.toml`` at chosen moments and run it again (crash and resume).

Used by tests/test_crash_resume.py and benchmarks/bench_crash_resume.py. The stand-ins run
in the caller's process with a fixed added latency (so a kill lands mid-call) and count
every ``POST /gradio_api/call/...`` they get. Moments are chosen by watching the workspace
(the journal, the web splats), never by sleeping; every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.verify import SUBJECTS, goal_toml

REPO = Path(__file__).resolve().parent.parent
POLL_S = 0.01
TEMP_MARKERS = (".staging-", ".evicted-", ".site-")


@dataclass
class CallCounter:
    """Counts the POSTs that start a Space call, per stand-in."""

    posts: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def middleware(self, name: str) -> Callable[[Any], None]:
        """``extra_routes`` for ``serve_blocks``: wrap the app in a recorder."""
        counter = self

        class Recorder:
            def __init__(self, app: Any) -> None:
                self.app = app

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                if (scope["type"] == "http" and scope["method"] == "POST"
                        and scope["path"].startswith("/gradio_api/call/")):
                    with counter.lock:
                        counter.posts.append((name, time.time()))
                await self.app(scope, receive, send)

        return lambda app: app.add_middleware(Recorder)

    def count(self) -> int:
        with self.lock:
            return len(self.posts)


@dataclass
class Spaces:
    image_url: str
    splat_url: str
    counter: CallCounter


@contextmanager
def counted_standins(latency: float) -> Iterator[Spaces]:
    """Both stand-ins, no faults, ``latency`` s added per call, POSTs counted."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from spacesmith.tools.standins.apps import build_image_app, build_splat_app
    from spacesmith.tools.standins.faults import Faults
    from spacesmith.tools.standins.server import serve_blocks

    counter = CallCounter()
    image = serve_blocks(build_image_app(Faults()), title="spacesmith/image-standin: ideogram4",
                         latency=latency, extra_routes=counter.middleware("image"))
    try:
        splat = serve_blocks(build_splat_app(Faults()),
                             title="spacesmith/splat-standin: TripoSplat", latency=latency,
                             extra_routes=counter.middleware("splat"))
    except BaseException:
        image.close()
        raise
    try:
        yield Spaces(image.url, splat.url, counter)
    finally:
        splat.close()
        image.close()


def write_goal(path: Path, spaces: Spaces, workspace: Path, subjects: tuple[str, ...]) -> Path:
    path.write_text(goal_toml(image=spaces.image_url, splat=spaces.splat_url,
                              output=workspace, subjects=subjects, call_timeout=60.0),
                    encoding="utf-8")
    return path


def start_run(goal: Path, log: Path) -> subprocess.Popen[bytes]:
    """``spacesmith run GOAL.toml --json`` as a child process, output into ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "spacesmith", "run", str(goal), "--json"],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def events(workspace: Path) -> list[dict[str, Any]]:
    from spacesmith.agent.calls.cache import Journal

    return Journal(workspace / "journal.jsonl").read()


@dataclass(frozen=True)
class Moment:
    """When to kill: ``kind`` is ``started`` (the n-th call POSTed, so mid-call),
    ``finished`` (the n-th call stored) or ``web`` (the n-th web splat written by this
    process); counts are over the whole journal, or for ``web`` over files this run wrote."""

    kind: str
    n: int

    def reached(self, workspace: Path, since: float) -> bool:
        if self.kind == "web":
            web = workspace / "splats" / "web"
            return sum(1 for p in web.glob("*.spz") if p.stat().st_mtime >= since) >= self.n
        found = events(workspace)
        if self.kind == "started":
            return sum(1 for e in found if e.get("kind") == "call_start") >= self.n
        return sum(1 for e in found if e.get("kind") == "call" and not e.get("cached")
                   and "error" not in e) >= self.n


def choose_moments(rng: random.Random, kills: int, calls: int, items: int) -> list[Moment]:
    """``kills`` moments in build order: mid-call, after some calls, while fixing splats."""
    pool = [Moment("started", rng.randint(1, items)),
            Moment("finished", rng.randint(items // 2, calls - 1)),
            Moment("started", rng.randint(items + 1, calls)),
            Moment("web", rng.randint(1, items - 1))]
    if kills <= len(pool):
        picked = sorted(rng.sample(range(len(pool)), kills))
        return [pool[i] for i in picked]
    return pool + [Moment("web", rng.randint(1, items - 1)) for _ in range(kills - len(pool))]


@dataclass
class KillRecord:
    moment: Moment
    killed: bool
    seconds: float
    bad_files: list[str]


def kill_at(goal: Path, workspace: Path, moment: Moment, log: Path,
            deadline_s: float = 120.0) -> KillRecord:
    """Run until ``moment`` (or the end), SIGKILL the process, check the files it left."""
    since = time.time()
    proc = start_run(goal, log)
    end = time.monotonic() + deadline_s
    killed = False
    try:
        while proc.poll() is None:
            if moment.reached(workspace, since):
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            if time.monotonic() > end:
                raise TimeoutError(f"{moment} not reached within {deadline_s:g} s; see {log}")
            time.sleep(POLL_S)  # watching a file for a condition, with a deadline
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait(timeout=30)
    return KillRecord(moment, killed, time.time() - since,
                      corrupt_files(workspace, allow_temporaries=True))


def finish(goal: Path, log: Path, timeout_s: float = 180.0) -> tuple[int, dict[str, Any]]:
    """Run to the end; return the exit code and the JSON summary."""
    proc = start_run(goal, log)
    try:
        code = proc.wait(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    lines = [ln for ln in log.read_text("utf-8", errors="replace").splitlines()
             if ln.startswith("{")]
    return code, (json.loads(lines[-1]) if lines else {})


def corrupt_files(workspace: Path, *, allow_temporaries: bool) -> list[str]:
    """Files under ``workspace`` that do not parse, and (unless allowed) leftover temporaries."""
    from spacesmith.tools.splat.io import read_splat_file

    bad: list[str] = []
    for path in sorted(workspace.rglob("*")):
        rel = path.relative_to(workspace).as_posix()
        hidden = any(part.startswith(".") for part in path.relative_to(workspace).parts)
        if hidden:
            if not allow_temporaries and (path.name.endswith((".tmp", ".part"))
                                          or path.name.startswith(TEMP_MARKERS)):
                bad.append(f"{rel}: temporary left behind")
            continue
        if not path.is_file() or "node_modules" in rel:
            continue
        try:
            if path.suffix in (".spz", ".ply", ".ksplat", ".splat"):
                read_splat_file(path)
            elif path.suffix == ".json":
                json.loads(path.read_text("utf-8"))
            elif path.name == "journal.jsonl":
                lines = path.read_text("utf-8").splitlines()
                for line in lines[:-1]:  # only the very last line may be cut by a kill
                    json.loads(line)
        except Exception as exc:  # any failure to parse is the finding
            bad.append(f"{rel}: {type(exc).__name__}: {str(exc)[:120]}")
    return bad


def repeated_calls(workspace: Path) -> list[str]:
    """Calls POSTed again after the journal recorded them finished (must be none)."""
    done: set[str] = set()
    repeats: list[str] = []
    for event in events(workspace):
        key = str(event.get("key"))
        if event.get("kind") == "call_start" and key in done:
            repeats.append(f"{event.get('tool')} {key}")
        elif event.get("kind") == "call" and not event.get("cached") and "error" not in event:
            if key in done:
                repeats.append(f"{event.get('tool')} {key} finished twice")
            done.add(key)
    return repeats


@dataclass
class Round:
    kills: list[KillRecord]
    exit_code: int
    summary: dict[str, Any]
    posts: int
    starts: int
    finished: int
    final_calls: int
    repeats: list[str]
    bad_files: list[str]
    wall_s: float


def crash_round(spaces: Spaces, root: Path, *, seed: int, kills: int,
                subjects: tuple[str, ...] = SUBJECTS) -> Round:
    """Build once with ``kills`` SIGKILLs at seeded moments, then to the end; check it all."""
    workspace = root / "run"
    goal = write_goal(root / "goal.toml", spaces, workspace, subjects)
    log = root / "run.log"
    posts_before = spaces.counter.count()
    started = time.monotonic()
    records = [kill_at(goal, workspace, moment, log)
               for moment in choose_moments(random.Random(seed), kills, 2 * len(subjects),
                                            len(subjects))]
    code, summary = finish(goal, log)
    found = events(workspace)
    last_run = found[-1].get("run_id") if found else None
    return Round(
        kills=records, exit_code=code, summary=summary,
        posts=spaces.counter.count() - posts_before,
        starts=sum(1 for e in found if e.get("kind") == "call_start"),
        finished=sum(1 for e in found if e.get("kind") == "call" and not e.get("cached")
                     and "error" not in e),
        final_calls=sum(1 for e in found if e.get("kind") == "call" and "error" not in e
                        and e.get("run_id") == last_run),
        repeats=repeated_calls(workspace),
        bad_files=corrupt_files(workspace, allow_temporaries=False),
        wall_s=time.monotonic() - started,
    )
