"""Headless builds against stand-ins injecting faults (the quick version of
benchmarks/bench_faults.py): each run reaches a correct site, judged from its files.

Hangs outlast the short per-call deadline (``[limits] call_timeout``), so each costs one
deadline and a re-call; a corrupt PLY from the splat Space is caught before it is cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spacesmith.agent.runs.headless import run_goal_file
from spacesmith.tools.standins import Faults, Standins, start_standins
from tests.fixtures.verify import (
    SUBJECTS,
    call_stats,
    finished_keys,
    goal_toml,
    journal,
    site_problems,
)

LIMITS = {"call_timeout": 3.0, "call_attempts": 3, "retry_backoff_s": 0.05}


def build(tmp_path: Path, spaces: Standins, subjects: tuple[str, ...],
          name: str = "run") -> tuple[int, dict[str, object], Path]:
    workspace = tmp_path / name
    goal = tmp_path / f"{name}.toml"
    goal.write_text(goal_toml(image=spaces.image_url, splat=spaces.splat_url, output=workspace,
                              subjects=subjects, **LIMITS), encoding="utf-8")
    lines: list[str] = []
    code = run_goal_file(goal, as_json=True, echo=lines.append)
    return code, json.loads(lines[-1]), workspace


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[Standins]:
    # eight events at once: these tests catch hangs with a short call_timeout, which every
    # call queued behind a hang would also reach on a one-at-a-time Space (the stall tests in
    # test_spaces_as_they_are.py cover that case)
    with start_standins(faults=request.param, concurrency=8) as spaces:
        yield spaces


@pytest.mark.parametrize("faulty", [Faults(rate=0.3, seed=s, hang_s=5.0, slow_s=0.3)
                                    for s in (2, 3)], indirect=True, ids=["seed2", "seed3"])
def test_a_build_at_30_percent_faults_reaches_a_correct_site(tmp_path: Path,
                                                             faulty: Standins) -> None:
    subjects = SUBJECTS[:4]
    code, summary, workspace = build(tmp_path, faulty, subjects)
    assert code == 0, summary["final_answer"]
    assert site_problems(workspace, items=len(subjects), max_count=32768) == []
    stats = call_stats(journal(workspace))
    assert stats["retries"] > 0  # faults struck and were absorbed
    assert faulty.image.faults.injected and faulty.splat.faults.injected


@pytest.mark.parametrize("faulty", [Faults(rate=1.0, kinds=("corrupt",), limit=1),
                                    Faults(rate=1.0, kinds=("hang",), limit=1, hang_s=5.0)],
                         indirect=True, ids=["corrupt-ply", "hang"])
def test_a_corrupt_ply_or_a_hang_costs_one_re_call_each(tmp_path: Path, faulty: Standins) -> None:
    code, summary, workspace = build(tmp_path, faulty, SUBJECTS[:1])
    assert code == 0, summary["final_answer"]
    assert site_problems(workspace, items=1, max_count=32768) == []
    retries = [e for e in journal(workspace) if e.get("kind") == "call_retry"]
    struck = faulty.image.faults.injected + faulty.splat.faults.injected
    assert len(retries) == len(struck) >= 1  # one fault per stand-in at most (limit=1)
    for retry in retries:
        assert "unreadable splat.ply" in retry["error"] or "no result within 3 s" in retry["error"]


@pytest.mark.parametrize("faulty", [Faults(rate=1.0, kinds=("corrupt",))], indirect=True,
                         ids=["always-corrupt"])
def test_a_failed_run_says_why_in_one_line_and_loses_nothing(
        tmp_path: Path, faulty: Standins, agent_spaces: Standins) -> None:
    subjects = SUBJECTS[:2]
    code, summary, workspace = build(tmp_path, faulty, subjects)
    message = str(summary["final_answer"])
    assert code == 1 and "\n" not in message
    assert f"Space '{faulty.splat_url}'" in message and "unreadable splat.ply" in message
    images = finished_keys(journal(workspace))
    assert len(images) == len(subjects)  # the image calls finished before the failure
    seen = len(journal(workspace))
    code, summary, workspace = build(tmp_path, agent_spaces, subjects)  # same workspace
    assert code == 0, summary["final_answer"]
    rerun = journal(workspace)[seen:]
    assert images <= {e["key"] for e in rerun if e.get("kind") == "call" and e.get("cached")}
    assert call_stats(rerun)["finished"] == len(subjects)  # only the splat calls were made
