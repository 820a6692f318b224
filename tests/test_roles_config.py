"""Several Spaces per role in goal files and flags, stand-in latency profiles, and errors
that name the right role when only one Space was named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spacesmith.agent.cli.main import build_parser, main
from spacesmith.agent.runs import runner
from spacesmith.agent.runs.headless import parse_goal_file
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.errors import AgentError, GoalFileError
from spacesmith.tools.standins import parse_latency


def goal(tmp_path: Path, spaces: str) -> Path:
    path = tmp_path / "goal.toml"
    path.write_text(f'goal = "build a Paris gallery"\n[spaces]\n{spaces}\n', encoding="utf-8")
    return path


def test_a_role_takes_one_space_or_a_list(tmp_path: Path) -> None:
    settings = parse_goal_file(goal(tmp_path, 'image = "a/img"\nsplat = ["a/one", "b/two"]'))
    assert settings.spaces("image") == ("a/img",)
    assert settings.spaces("splat") == ("a/one", "b/two")


@pytest.mark.parametrize("value", ['[]', '["a/x", ""]', '["a/x", 3]', '["a/x", "a/x"]', '{x=1}'])
def test_a_bad_list_of_spaces_names_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(GoalFileError, match=r"spaces\.splat"):
        parse_goal_file(goal(tmp_path, f"splat = {value}"))


def test_stall_limits_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text('goal = "x"\n[limits]\nstall_after_s = 30\nstall_factor = 2.5\n', "utf-8")
    settings = parse_goal_file(path)
    assert (settings.stall_after_s, settings.stall_factor) == (30.0, 2.5)
    path.write_text('goal = "x"\n[limits]\nstall_after_s = 0\n', "utf-8")
    with pytest.raises(GoalFileError, match=r"limits\.stall_after_s"):
        parse_goal_file(path)


def test_repeated_flags_give_several_spaces_per_role() -> None:
    from spacesmith.agent.cli.agent import _settings

    args = build_parser().parse_args(["build", "x", "--splat-space", "a/one",
                                      "--splat-space", "b/two", "--image-space", "c/img"])
    settings = _settings(args, "x", None)
    assert settings.spaces("splat") == ("a/one", "b/two")
    assert settings.spaces("image") == ("c/img",)


def test_json_is_printed_on_bad_input_too(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = goal(tmp_path, "splat = 3")
    assert main(["run", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["success"] is False and summary["exit_code"] == 2
    assert "spaces.splat" in summary["error"] and "spaces.splat" in captured.err


@pytest.mark.parametrize(("named", "role", "default"), [
    ({"image_space": "http://127.0.0.1:9/"}, "splat", runner.DEFAULT_SPLAT_SPACE),
    ({"splat_space": "http://127.0.0.1:9/"}, "image", runner.DEFAULT_IMAGE_SPACE),
])
def test_naming_one_role_offline_says_which_role_fell_back(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, named: dict[str, str], role: str,
        default: str) -> None:
    monkeypatch.setattr(runner, "hub_reachable", lambda timeout=3.0: False)
    settings = Settings(goal="x", output=tmp_path, **named)  # type: ignore[arg-type]
    with pytest.raises(AgentError) as caught, runner.spaces_for(settings):
        pass
    text = str(caught.value)
    assert f"the {role} role fell back to the default {default}" in text
    assert f"--{role}-space" in text and "--offline" in text and "127.0.0.1:9" not in text


def test_latency_profiles() -> None:
    assert parse_latency("2.5") == {"image": 2.5, "splat": 2.5}
    assert parse_latency("image=3,splat=6") == {"image": 3.0, "splat": 6.0}
    assert parse_latency("splat=1") == {"image": 0.0, "splat": 1.0}
    for bad in ("fast", "image=-1", "video=2", "image="):
        with pytest.raises(ValueError, match="bad latency"):
            parse_latency(bad)


def test_serve_rejects_a_bad_latency_or_concurrency_in_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces", "serve", "--latency", "video=2"]) == 2
    assert main(["spaces", "serve", "--concurrency", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "unknown role 'video'" in err[0] and "concurrency" in err[1]
