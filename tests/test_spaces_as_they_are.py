"""Builds against stand-ins that behave like real Spaces: one event at a time per endpoint.

The acceptance of issue 11, through ``spacesmith run`` goal files (the public interface):
the pipelined chain starts the first splat before the last image is done; two splat Spaces
share the jobs; a Space that hangs on its second call is set aside and the run finishes on
the other; the only Space hanging ends the run with one line, long before ``call_timeout``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from spacesmith.agent.runs.headless import run_goal_file
from spacesmith.tools.standins import Faults, StandinServer, start_standin
from tests.fixtures.verify import SUBJECTS, goal_toml, journal, site_problems, stalled_calls

STALL = {"stall_after_s": 5.0, "stall_factor": 3.0}  # floor and probation floor: 5 s


@pytest.fixture
def servers() -> Iterator[list[StandinServer]]:
    started: list[StandinServer] = []
    yield started
    for server in started:
        server.close()


def serve(started: list[StandinServer], role: str, *, latency: float = 0.0,
          faults: Faults | None = None) -> str:
    server = start_standin(role, latency=latency, faults=faults or Faults())
    started.append(server)
    return server.url


def build(tmp_path: Path, image: str | Sequence[str], splat: str | Sequence[str],
          subjects: Sequence[str], **limits: Any) -> tuple[int, dict[str, Any], Path]:
    workspace = tmp_path / "run"
    goal = tmp_path / "goal.toml"
    goal.write_text(goal_toml(image=image, splat=splat, output=workspace, subjects=subjects,
                              extra_limits=limits), encoding="utf-8")
    lines: list[str] = []
    code = run_goal_file(goal, as_json=True, echo=lines.append)
    return code, json.loads(lines[-1]), workspace


def finished(events: list[dict[str, Any]], space: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("kind") == "call" and e.get("space") == space
            and not e.get("cached") and "error" not in e]


def test_the_chain_starts_the_first_splat_before_the_last_image_is_done(
        tmp_path: Path, servers: list[StandinServer]) -> None:
    image = serve(servers, "image", latency=0.4)
    splat = serve(servers, "splat", latency=0.4)
    subjects = SUBJECTS[:4]
    code, summary, workspace = build(tmp_path, image, splat, subjects)
    assert code == 0, summary["final_answer"]
    events = journal(workspace)
    images_done = [e["ts"] for e in finished(events, image)]
    splat_starts = [e["ts"] for e in events
                    if e.get("kind") == "call_start" and e.get("space") == splat]
    assert len(images_done) == len(subjects) and len(splat_starts) == len(subjects)
    assert min(splat_starts) < max(images_done)


def test_two_splat_spaces_share_six_jobs(tmp_path: Path, servers: list[StandinServer]) -> None:
    image = serve(servers, "image", latency=0.2)
    first, second = serve(servers, "splat", latency=0.6), serve(servers, "splat", latency=0.6)
    code, summary, workspace = build(tmp_path, image, [first, second], SUBJECTS[:6])
    assert code == 0, summary["final_answer"]
    assert site_problems(workspace, items=6, max_count=32768) == []
    events = journal(workspace)
    shares = len(finished(events, first)), len(finished(events, second))
    assert sum(shares) == 6 and min(shares) >= 2, shares


def test_a_space_that_hangs_on_its_second_call_is_set_aside_and_the_other_finishes(
        tmp_path: Path, servers: list[StandinServer]) -> None:
    image = serve(servers, "image")
    stuck = serve(servers, "splat", latency=0.3, faults=Faults(plan=("ok", "hang")))
    good = serve(servers, "splat", latency=0.3)
    subjects = SUBJECTS[:4]
    code, summary, workspace = build(tmp_path, image, [stuck, good], subjects, **STALL)
    assert code == 0, summary["final_answer"]
    assert site_problems(workspace, items=len(subjects), max_count=32768) == []
    events = journal(workspace)
    aside = [e for e in events if e.get("kind") == "set_aside"]
    assert [e["space"] for e in aside] == [stuck] and "no progress for" in aside[0]["reason"]
    assert len(finished(events, stuck)) == 1
    assert len(finished(events, good)) == len(subjects) - 1


def test_the_only_splat_space_hanging_ends_the_run_in_one_line(
        tmp_path: Path, servers: list[StandinServer]) -> None:
    image = serve(servers, "image")
    splat = serve(servers, "splat", faults=Faults(rate=1.0, kinds=("hang",)))
    subjects = SUBJECTS[:3]
    code, summary, workspace = build(tmp_path, image, splat, subjects, **STALL)
    message = str(summary["final_answer"])
    assert code == 1 and "\n" not in message
    assert f"Space '{splat}'" in message and "no progress for" in message
    assert f"0 of {len(subjects)} splats done" in message
    assert not (workspace / "site" / "index.html").exists()  # nothing misleading is built
    assert len(finished(journal(workspace), image)) == len(subjects)  # kept, cached


def test_the_only_space_hanging_once_gets_a_probe_and_the_run_finishes(
        tmp_path: Path, servers: list[StandinServer]) -> None:
    """A hang may be one stuck call: the last Space of its role is not dropped for it. The
    call is re-made alone (a probe); it finishes, and the Space goes on with the rest."""
    image = serve(servers, "image")
    splat = serve(servers, "splat", latency=0.2, faults=Faults(plan=("ok", "hang")))
    subjects = SUBJECTS[:4]
    code, summary, workspace = build(tmp_path, image, splat, subjects, **STALL)
    assert code == 0, summary["final_answer"]
    assert site_problems(workspace, items=len(subjects), max_count=32768) == []
    events = journal(workspace)
    assert not [e for e in events if e.get("kind") == "set_aside"]
    stalled = [e for e in stalled_calls(events) if e.get("space") == splat]
    assert len(stalled) == 1
    assert len(finished(events, splat)) == len(subjects)


def test_a_stuck_worker_is_cancelled_so_the_probe_runs_and_the_run_finishes(
        tmp_path: Path, servers: list[StandinServer]) -> None:
    """A function Gradio cannot stop (it holds the worker after the client leaves) hangs on
    the second call. The client cancels the event on the Space (``POST …/cancel``), which
    frees the worker: the probe runs, and the only Space finishes the build."""
    image = serve(servers, "image")
    splat = serve(servers, "splat", faults=Faults(plan=("ok", "stuck")))
    subjects = SUBJECTS[:4]
    code, summary, workspace = build(tmp_path, image, splat, subjects, **STALL)
    assert code == 0, summary["final_answer"]
    events = journal(workspace)
    assert not [e for e in events if e.get("kind") == "set_aside"]
    assert len(finished(events, splat)) == len(subjects)


def test_a_space_stuck_on_every_call_ends_the_run_after_two_probes(
        tmp_path: Path, servers: list[StandinServer]) -> None:
    """The only splat Space finishes one call, then every call is stuck. The run ends with
    one line after the stall budget and two probes, keeping what finished."""
    image = serve(servers, "image")
    splat = serve(servers, "splat", faults=Faults(plan=("ok",), rate=1.0, kinds=("stuck",)))
    subjects = SUBJECTS[:4]
    code, summary, workspace = build(tmp_path, image, splat, subjects, **STALL)
    message = str(summary["final_answer"])
    assert code == 1 and "\n" not in message, message
    assert f"Space '{splat}'" in message and "no progress for" in message
    assert f"1 of {len(subjects)} splats done" in message
    assert not (workspace / "site" / "index.html").exists()
    events = journal(workspace)
    assert [e["space"] for e in events if e.get("kind") == "set_aside"] == [splat]
    # probes go alone: after the first stall, one call at a time reached the Space
    starts = [e for e in events if e.get("kind") == "call_start" and e.get("space") == splat]
    first_stall = min(e["ts"] for e in stalled_calls(events) if e.get("space") == splat)
    after = sorted(e["ts"] for e in starts if e["ts"] > first_stall)
    assert 1 <= len(after) <= 2, after
