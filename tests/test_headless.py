"""`spacesmith run GOAL.toml`: the schema, exit codes 0 / 1 / 2, the report, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spacesmith.agent.cli.main import main
from spacesmith.agent.runs.headless import parse_goal_file
from spacesmith.tools.errors import GoalFileError
from spacesmith.tools.standins import Standins

GOOD = """\
goal = "build a Paris monuments gallery"
subjects = ["Panthéon", "Arc de Triomphe"]
model = "offline"
output = "runs/paris"
num_gaussians = "32768"
[spaces]
image = "{image}"
splat = "{splat}"
[limits]
max_steps = 12
max_space_calls = 10
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "goal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_reads_every_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(image="a/b", splat="c/d")
                 + '[deploy]\nspace = "me/paris"\n')
    settings = parse_goal_file(path)
    assert settings.goal == "build a Paris monuments gallery"
    assert settings.subjects == ("Panthéon", "Arc de Triomphe")
    assert settings.output == tmp_path / "runs" / "paris"
    assert (settings.image_space, settings.splat_space) == ("a/b", "c/d")
    assert settings.deploy_space == "me/paris"
    assert (settings.max_steps, settings.max_space_calls) == (12, 10)
    assert settings.model == "offline" and settings.token is None


@pytest.mark.parametrize(("text", "key"), [
    ('goal = "x"\ncolour = "red"\n', "colour"),
    ('subjects = ["a"]\n', "goal"),
    ('goal = ""\n', "goal"),
    ('goal = "x"\nsubjects = "Louvre"\n', "subjects"),
    ('goal = "x"\n[limits]\nmax_steps = 0\n', "limits.max_steps"),
    ('goal = "x"\n[limits]\nmax_step = 3\n', "limits.max_step"),
    ('goal = "x"\n[spaces]\nimage = 3\n', "spaces.image"),
    ('goal = "x"\nspaces = "a/b"\n', "spaces"),
    ('goal = "x"\noffline = "yes"\n', "offline"),
    ('goal = "x\n', "TOML"),
])
def test_bad_goal_files_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(GoalFileError, match=key):
        parse_goal_file(write(tmp_path, text))


def test_run_exit_2_on_a_malformed_file(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(write(tmp_path, 'goal = "x"\n[limits]\nmax_steps = -1\n'))]) == 2
    assert "limits.max_steps" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.toml")]) == 2


def test_run_exit_0_writes_the_report(tmp_path: Path, agent_spaces: Standins,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.format(image=agent_spaces.image_url,
                                       splat=agent_spaces.splat_url))
    assert main(["run", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["success"] is True and summary["error"] is None
    # progress: plain lines on stderr, each call's state (not a terminal here)
    assert "[spaces] splat 2/2 · 127.0.0.1:" in captured.err and "done in" in captured.err
    report = Path(summary["report"])
    assert report == tmp_path / "runs" / "paris" / "report.md" and report.is_file()
    data = json.loads(Path(summary["report_json"]).read_text())
    assert data["space_calls"]["made"] == 4 and data["success"] is True
    assert summary["model"].startswith("offline planner")


def test_run_exit_1_when_the_goal_is_not_reached(tmp_path: Path, agent_spaces: Standins,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.format(image=agent_spaces.image_url, splat=agent_spaces.splat_url)
    path = write(tmp_path, text.replace("max_space_calls = 10", "max_space_calls = 1"))
    assert main(["run", str(path)]) == 1
    out = capsys.readouterr().out
    assert "goal NOT reached" in out and "budget" in out
    assert f"report: {tmp_path / 'runs' / 'paris' / 'report.md'}" in out
