"""The public paths a person types into: ``spacesmith chat --offline -o DIR`` with piped
stdin (judged by gallery.json and journal.jsonl), and one-shot goals through
``spacesmith build`` that name their subjects, or exit 1 saying what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spacesmith.agent.cli.main import main
from spacesmith.agent.planner.vocabulary import THEMES, is_thin
from spacesmith.tools.standins import Standins


def _journal_calls(workspace: Path) -> list[dict[str, object]]:
    lines = (workspace / "journal.jsonl").read_text("utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("kind") == "call"]


def test_chat_with_piped_stdin_understands_the_blog_phrasings(tmp_path: Path) -> None:
    messages = [
        "build a Paris monuments gallery",
        "make it zoomed out",
        "replace the obelisk with something better for splatting",
        "the transition lingers too long",
        "can you make the captions shorter?",
        "asdf",
        "undo that",
        "Call it Paris by night, please",
        "/quit",
    ]
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "SPACESMITH_MODEL")}
    out = tmp_path / "chat"
    done = subprocess.run(
        [sys.executable, "-m", "spacesmith.agent.cli.main", "chat", "--offline", "-o", str(out)],
        input="\n".join(messages) + "\n", capture_output=True, text=True, timeout=300,
        env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((out / "gallery.json").read_text("utf-8"))
    subjects = [it["name"] for it in data["items"]]
    six = list(THEMES["paris"][1][:6])
    assert len(subjects) == 6 and subjects[:5] == six[:5]
    assert "Luxor Obelisk" not in subjects and not is_thin(subjects[5])
    assert all(it["zoom"] > 1 for it in data["items"])
    assert data["viewer"]["transition_s"] == 1.2, "undo that took the transition back"
    assert data["title"] == "Paris by night"
    calls = _journal_calls(out)
    assert len(calls) == 14, "12 for the six monuments, 2 for the replacement, 0 for the rest"
    assert "Not understood" in done.stdout


def test_build_uses_a_named_list_exactly(tmp_path: Path, agent_spaces: Standins,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rome"
    code = main(["build", "build a Rome gallery with the Colosseum, the Pantheon and "
                 "Trajan's Column", "--model", "offline", "-o", str(out),
                 "--image-space", agent_spaces.image_url, "--splat-space", agent_spaces.splat_url])
    assert code == 0, capsys.readouterr()
    data = json.loads((out / "gallery.json").read_text("utf-8"))
    assert [it["name"] for it in data["items"]] == ["Colosseum", "Pantheon", "Trajan's Column"]
    assert data["title"] == "Monuments of Rome"


def test_build_subjects_flag_and_list_prefix(tmp_path: Path, agent_spaces: Standins,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    spaces = ["--model", "offline", "--image-space", agent_spaces.image_url,
              "--splat-space", agent_spaces.splat_url]
    out = tmp_path / "shoes"
    assert main(["build", "our sneaker line: runner, high-top and slip-on", "-o", str(out),
                 *spaces]) == 0
    data = json.loads((out / "gallery.json").read_text("utf-8"))
    assert [it["name"] for it in data["items"]] == ["runner", "high-top", "slip-on"]
    assert data["title"] == "Our sneaker line"
    out = tmp_path / "flag"
    assert main(["build", "my two favourites", "--subjects", "Louvre, Panthéon", "-o", str(out),
                 *spaces]) == 0
    data = json.loads((out / "gallery.json").read_text("utf-8"))
    assert [it["name"] for it in data["items"]] == ["Louvre", "Panthéon"]
    capsys.readouterr()


@pytest.mark.parametrize(("goal", "said"), [
    ("build a gallery of four famous dinosaurs", "list the subjects: --subjects A,B,C"),
    ("asdf", "list the subjects: --subjects A,B,C"),
    ("", "the goal is empty"),
    ("   ", "the goal is empty"),
])
def test_build_that_cannot_be_planned_exits_1_naming_what_is_missing(
        tmp_path: Path, agent_spaces: Standins, capsys: pytest.CaptureFixture[str],
        goal: str, said: str) -> None:
    out = tmp_path / "run"
    code = main(["build", goal, "--model", "offline", "-o", str(out),
                 "--image-space", agent_spaces.image_url, "--splat-space", agent_spaces.splat_url])
    assert code == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert said in text
    assert "list index out of range" not in text and "Traceback" not in text
    assert not (out / "gallery.json").exists()
    if (out / "journal.jsonl").exists():
        assert _journal_calls(out) == []


def test_a_goal_file_that_cannot_be_planned_exits_1(tmp_path: Path, agent_spaces: Standins,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    goal = tmp_path / "goal.toml"
    goal.write_text("\n".join([
        'goal = "build a gallery of four famous dinosaurs"', 'model = "offline"',
        'output = "out"', "[spaces]", f'image = "{agent_spaces.image_url}"',
        f'splat = "{agent_spaces.splat_url}"']), "utf-8")
    assert main(["run", str(goal)]) == 1
    out = capsys.readouterr().out
    assert "goal NOT reached" in out and "list the subjects" in out
    assert not (tmp_path / "out" / "gallery.json").exists()
    assert _journal_calls(tmp_path / "out") == []
