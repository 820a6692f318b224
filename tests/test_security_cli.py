"""Security through the public path: ``spacesmith run GOAL.toml --json`` in a subprocess, with
``HF_TOKEN`` set and a real OpenAI-compatible model server (127.0.0.1) that emits attack code.

What is checked is what an outsider sees: the exit code, stdout and stderr, the report, every
file the run left, every request the model server got (what the model read), and the requests
of a foreign host the code tries to reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spacesmith.tools.standins import Standins
from tests.corpus.fake_space import INFO, FakeSpace, fake_space
from tests.corpus.openai_server import ScriptedLLM, scripted_llm

CANARY = "hf_CANARYcli9e1d3c5b7a2f4e6d8"


@pytest.fixture
def foreign() -> Iterator[FakeSpace]:
    with fake_space() as space:
        space.routes["/*"] = (200, {"Content-Type": "text/plain"}, b"foreign")
        yield space


def _goal(tmp_path: Path, llm: ScriptedLLM, spaces: Standins, *, goal: str, steps: int) -> Path:
    path = tmp_path / "goal.toml"
    path.write_text(
        f"goal = {json.dumps(goal)}\nsubjects = [\"Panthéon\"]\nmodel = \"scripted\"\n"
        f"api_base = \"{llm.url}\"\noutput = \"run\"\n"
        f"[spaces]\nimage = \"{spaces.image_url}\"\nsplat = \"{spaces.splat_url}\"\n"
        f"[limits]\nmax_steps = {steps}\ncall_attempts = 1\ncode_cpu_s = 2\n"
        "code_wall_s = 3\ncode_memory_mb = 768\n", encoding="utf-8")
    return path


def _spacesmith_run(goal: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACESMITH_"))}
    env.update(HF_TOKEN=CANARY, HF_HOME=str(tmp_path / "hf_home"), NO_PROXY="127.0.0.1,localhost")
    return subprocess.run([sys.executable, "-m", "spacesmith", "run", str(goal), "--json"],
                          env=env, capture_output=True, text=True, timeout=600,
                          cwd=str(tmp_path))


def _everything_written(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace")
                     for p in root.rglob("*") if p.is_file())


def _summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, (done.stdout[-2000:], done.stderr[-3000:])
    found: dict[str, Any] = json.loads(lines[-1])
    return found


def test_attack_run_through_the_cli(tmp_path: Path, agent_spaces: Standins,
                                    foreign: FakeSpace) -> None:
    script = [
        "from json import __loader__ as L\nprint(L.get_data('/proc/self/environ'))",
        "raise SystemExit(0)",
        "import time\ntime.sleep(10**6)",
        "x = 9**(9**9)",
        "discover_space('http://169.254.169.254/latest/meta-data/')",
        f"discover_space({foreign.url!r})",
        f"discover_space('http://user@{foreign.host}/')",
        "write_file('../../escape.txt', 'x')",
        "s = ' ' * (10**11)",
        "while True:\n    print('A' * 10000)",
        "raise KeyboardInterrupt",
    ]
    with scripted_llm(script, final='final_answer("attacks done")') as llm:
        goal = _goal(tmp_path, llm, agent_spaces, goal="build a Paris monuments gallery",
                     steps=len(script) + 1)
        done = _spacesmith_run(goal, tmp_path)
    summary = _summary(done)
    assert done.returncode == 1, (done.stdout[-2000:], done.stderr[-3000:])
    assert summary["success"] is False
    report = json.loads(Path(summary["report_json"]).read_text())
    assert "landlock" in summary["agent_code"]["confinement"]
    assert len(summary["agent_code"]["stopped"]) >= 2  # power, flood (time does not import)
    assert len([s for s in report["steps"] if s["type"] == "action"]) <= len(script) + 1
    seen = llm.seen_text()
    assert "SystemExit" in seen and "Your code was stopped" in seen
    assert "may not reach" in seen and "outside the workspace" in seen
    for text in (done.stdout, done.stderr, seen, _everything_written(tmp_path)):
        assert CANARY not in text
    assert foreign.requests == []
    assert not (tmp_path.parent / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_a_token_echoed_by_a_space_is_scrubbed_everywhere(tmp_path: Path,
                                                          agent_spaces: Standins) -> None:
    """A user-named Space receives the token (its own origin) and echoes it back: neither the
    model, nor stdout (--json final answer), nor the report, nor any file shows it."""
    with fake_space() as echo:
        echo.json_route("/gradio_api/info", INFO)
        echo.json_route("/gradio_api/call/v2/generate", {"event_id": "ev1"})

        def stream(handler: Any) -> tuple[int, dict[str, str], bytes]:
            data = json.dumps([f"you sent {handler.headers.get('Authorization')}"])
            return 200, {"Content-Type": "text/event-stream"}, \
                f"event: complete\ndata: {data}\n\n".encode()

        echo.routes["/gradio_api/call/generate/ev1"] = stream
        script = [f"print(discover_space({echo.url!r}))",
                  "r = call_many(" + repr(_echo_tool(echo)) + ", [{'prompt': 'x'}])[0]\n"
                  "print(r.values)", "final_answer(r.values[0])"]
        with scripted_llm(script) as llm:
            goal = _goal(tmp_path, llm, agent_spaces, steps=4,
                         goal=f"build a Paris monuments gallery; also try {echo.url}")
            done = _spacesmith_run(goal, tmp_path)
    summary = _summary(done)
    assert f"Bearer {CANARY}" in echo.auth_seen()  # the named Space did get the token
    assert summary["final_answer"].startswith("you sent Bearer ***"), summary
    seen = llm.seen_text()
    assert "you sent Bearer ***" in seen
    for text in (done.stdout, done.stderr, seen, _everything_written(tmp_path)):
        assert CANARY not in text


def _echo_tool(echo: FakeSpace) -> str:
    from spacesmith.agent.codeagent.space_tools import tool_name

    return tool_name(echo.url, "/generate")
