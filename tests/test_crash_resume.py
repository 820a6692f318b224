"""Crash and resume: SIGKILL `spacesmith run GOAL.toml` mid-build, run it again.

The rerun must finish (exit 0, a correct site), repeat no Space call the journal recorded
finished (the stand-ins count every POST that starts a call), and leave no corrupt file and
no temporary behind. Kill moments are seeded and chosen by watching the journal and the
web splats (mid-call, between calls, while fixing splats).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crash_driver import (
    Moment,
    Spaces,
    corrupt_files,
    counted_standins,
    crash_round,
    events,
    finish,
    kill_at,
    write_goal,
)
from tests.fixtures.verify import SUBJECTS, site_problems

LATENCY_S = 0.4  # added to every call, so a kill lands while calls are in flight


@pytest.fixture(scope="module")
def slow_spaces() -> Iterator[Spaces]:
    with counted_standins(LATENCY_S) as spaces:
        yield spaces


@pytest.mark.parametrize("seed", [3, 11])
def test_killed_build_resumes_without_repeating_calls(tmp_path: Path, slow_spaces: Spaces,
                                                      seed: int) -> None:
    subjects = SUBJECTS[:3]
    result = crash_round(slow_spaces, tmp_path, seed=seed, kills=2, subjects=subjects)
    assert result.exit_code == 0, result.summary
    assert result.summary.get("success") is True
    assert any(k.killed for k in result.kills), "no kill landed before the build ended"
    for record in result.kills:
        assert record.bad_files == [], f"after a kill at {record.moment}: {record.bad_files}"
    assert result.repeats == []
    # each call was stored once overall (a kill between the cache commit and its journal
    # line leaves it stored but unrecorded: the rerun serves it from the cache, no POST)
    assert result.finished <= 2 * len(subjects)
    assert result.final_calls == 2 * len(subjects)  # the last run got every call, no errors
    assert result.posts <= result.starts  # every POST was journaled as started first
    assert result.bad_files == []
    assert site_problems(tmp_path / "run", items=len(subjects), max_count=32768) == []


def test_kill_mid_call_then_resume_posts_only_unfinished_calls(tmp_path: Path,
                                                               slow_spaces: Spaces) -> None:
    subjects = SUBJECTS[:2]
    workspace = tmp_path / "run"
    goal = write_goal(tmp_path / "goal.toml", slow_spaces, workspace, subjects)
    before = slow_spaces.counter.count()
    record = kill_at(goal, workspace, Moment("finished", 3), tmp_path / "run.log")
    assert record.killed and record.bad_files == []
    done = {e["key"] for e in events(workspace) if e.get("kind") == "call"
            and not e.get("cached") and "error" not in e}
    posted_before_resume = slow_spaces.counter.count() - before
    code, summary = finish(goal, tmp_path / "run.log")
    assert code == 0 and summary["success"] is True
    last_run = events(workspace)[-1]["run_id"]
    resumed = [e for e in events(workspace) if e.get("kind") == "call"
               and e.get("run_id") == last_run]
    cached = {e["key"] for e in resumed if e.get("cached")}
    assert done <= cached  # every call finished before the kill came from the cache
    new_posts = slow_spaces.counter.count() - before - posted_before_resume
    assert new_posts <= 2 * len(subjects) - len(done)
    assert corrupt_files(workspace, allow_temporaries=False) == []
