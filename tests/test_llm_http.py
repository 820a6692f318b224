"""The LLM path over real HTTP: ``spacesmith run`` against scripted OpenAI-compatible
servers on 127.0.0.1 (tests/fixtures/llm_server.py), with both client paths.

Every run must end as described, with its report and exactly one JSON document on stdout:
a llama.cpp-like server that takes only string content, one that takes parts (vision), the
Inference Providers path moved to a local server, a hung server, 429 then success, a
deterministic 500 whose text holds "429", a refused connection, prose instead of code, the
step limit, Ctrl-C, a bad goal file.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from smolagents.models import ChatMessage, MessageRole

from spacesmith.agent.cli.main import main
from spacesmith.agent.codeagent.llm import MODEL_ATTEMPTS
from spacesmith.agent.planner.planner import OfflinePlanner
from spacesmith.tools.standins import Standins
from tests.fixtures.llm_server import ChatServer, Reply, answer, error

GOAL = """\
goal = "build a Paris monuments gallery"
subjects = ["Panthéon"]
model = "{model}"
{api_base}
output = "run"
num_gaussians = "32768"
[spaces]
image = "{image}"
splat = "{splat}"
[limits]
max_steps = {max_steps}
model_timeout = {timeout}
retry_backoff_s = 0.01
"""


@pytest.fixture(params=["openai", "hub"])
def client_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both HTTP clients: the openai package, and huggingface_hub's InferenceClient."""
    if request.param == "openai":
        pytest.importorskip("openai")
    monkeypatch.setenv("SPACESMITH_LLM_CLIENT", request.param)
    return str(request.param)


def planner_script() -> Callable[[dict[str, Any], int], Reply]:
    """Answers as the offline planner would, reading the conversation from the wire."""
    planner = OfflinePlanner(num_gaussians="32768")

    def script(body: dict[str, Any], n: int) -> Reply:
        messages = []
        for m in body["messages"]:
            content = m["content"] if isinstance(m["content"], str) else "\n".join(
                p.get("text", "") for p in m["content"])
            role = m["role"]
            if role == "user" and not content.startswith("New task:"):
                role = MessageRole.TOOL_RESPONSE.value
            messages.append(ChatMessage(role=MessageRole(role), content=content))
        return answer(str(planner.generate(messages).content))

    return script


def write_goal(tmp_path: Path, spaces: Standins, server: ChatServer | None, *,
               model: str = "test-model", max_steps: int = 8, timeout: float = 20,
               api_base: str | None = None) -> Path:
    base = api_base if api_base is not None else (server.url if server else "")
    path = tmp_path / "goal.toml"
    path.write_text(GOAL.format(model=model, api_base=f'api_base = "{base}"' if base else "",
                                image=spaces.image_url, splat=spaces.splat_url,
                                max_steps=max_steps, timeout=timeout), encoding="utf-8")
    return path


def run_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any],
                                                                     str]:
    """``spacesmith run GOAL --json``: the exit code, the one JSON document, stderr."""
    code = main(["run", str(path), "--json"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # the whole of stdout is one JSON document
    assert isinstance(summary, dict)
    return code, summary, captured.err


def report_of(summary: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(summary["report_json"]).read_text("utf-8"))
    return data


def all_string_content(server: ChatServer) -> bool:
    return all(isinstance(m["content"], str) for b in server.requests for m in b["messages"])


def test_build_on_a_string_only_server(tmp_path: Path, agent_spaces: Standins,
                                       chat_server: Callable[..., ChatServer], client_path: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    server = chat_server(planner_script(), string_only=True)
    code, summary, err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 0, (summary, err)
    assert summary["success"] is True and summary["site"]
    assert server.requests and all_string_content(server)
    assert all(0 < b["max_tokens"] <= 2048 for b in server.requests)
    assert all(b["model"] == "test-model" for b in server.requests)
    report = report_of(summary)
    actions = [s for s in report["steps"] if s["type"] == "action"]
    assert len(actions) == len(server.requests)
    assert all("[phase:" in s["model_output"] for s in actions)
    assert "Traceback" not in err


def test_parts_for_a_vision_model(tmp_path: Path, agent_spaces: Standins,
                                  chat_server: Callable[..., ChatServer],
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SPACESMITH_MODEL_VISION", "1")
    server = chat_server(planner_script(), string_only=False)
    code, summary, err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 0, (summary, err)
    assert all(isinstance(m["content"], list) for b in server.requests for m in b["messages"])


def test_inference_providers_path_on_a_local_server(tmp_path: Path, agent_spaces: Standins,
                                                    chat_server: Callable[..., ChatServer],
                                                    client_path: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    server = chat_server(planner_script())
    monkeypatch.setenv("HF_TOKEN", "hf_localTestTokenNotReal")
    monkeypatch.setenv("HF_INFERENCE_ENDPOINT", server.url.removesuffix("/v1"))
    path = write_goal(tmp_path, agent_spaces, None, model="Qwen/Qwen3-Coder-480B-A35B-Instruct")
    code, summary, err = run_json(path, capsys)
    assert code == 0, (summary, err)
    assert "Inference Providers" in summary["model"]
    assert {b["model"] for b in server.requests} == {"Qwen/Qwen3-Coder-480B-A35B-Instruct"}
    assert server.auth == {"Bearer hf_localTestTokenNotReal"}
    assert "hf_localTestTokenNotReal" not in Path(summary["report_json"]).read_text("utf-8")


def test_a_hung_server_ends_the_run_at_the_deadline(tmp_path: Path, agent_spaces: Standins,
                                                    chat_server: Callable[..., ChatServer],
                                                    client_path: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    server = chat_server(lambda body, n: Reply(hang=True))
    code, summary, err = run_json(write_goal(tmp_path, agent_spaces, server, timeout=1), capsys)
    assert code == 1
    assert summary["state"] == "model_error"
    assert server.url in summary["error"] and "did not answer within 1 s" in summary["error"]
    assert len(server.requests) == 1  # a timeout is not retried
    assert err.count(server.url) == 1  # one line on stderr
    assert report_of(summary)["state"] == "model_error"


def test_429_then_success(tmp_path: Path, agent_spaces: Standins,
                          chat_server: Callable[..., ChatServer],
                          capsys: pytest.CaptureFixture[str]) -> None:
    planner = planner_script()

    def script(body: dict[str, Any], n: int) -> Reply:
        if n <= 2:
            return error(429, "rate limited", **{"retry-after": "0"})
        return planner(body, n)

    server = chat_server(script)
    code, summary, err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 0, (summary, err)
    actions = [s for s in report_of(summary)["steps"] if s["type"] == "action"]
    assert len(server.requests) == len(actions) + 2


def test_a_deterministic_500_mentioning_429_is_tried_a_bounded_number_of_times(
        tmp_path: Path, agent_spaces: Standins, chat_server: Callable[..., ChatServer],
        client_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    server = chat_server(lambda body, n: error(500, "upstream 127.0.0.1:7429 said: 429 "
                                                    "Too Many Requests"))
    code, summary, _err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 1
    assert len(server.requests) == MODEL_ATTEMPTS
    assert f"answered HTTP 500 ({MODEL_ATTEMPTS} tries)" in summary["error"]
    assert report_of(summary)["state"] == "model_error"


def test_a_refused_connection(tmp_path: Path, agent_spaces: Standins,
                              capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    code, summary, err = run_json(write_goal(tmp_path, agent_spaces, None, api_base=url), capsys)
    assert code == 1
    assert f"the model server at {url} cannot be reached" in summary["error"]
    assert "Traceback" not in err


def test_a_server_too_small_for_the_prompt(tmp_path: Path, agent_spaces: Standins,
                                           chat_server: Callable[..., ChatServer],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    server = chat_server(planner_script(), window=1024, props_window=1024)
    code, summary, _err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 1
    assert "context window" in summary["error"]
    assert report_of(summary)["state"] == "model_error"
    assert not server.requests  # known from /props: nothing that cannot fit is sent


def test_prose_instead_of_code(tmp_path: Path, agent_spaces: Standins,
                               chat_server: Callable[..., ChatServer],
                               capsys: pytest.CaptureFixture[str]) -> None:
    prose = "I would love to help you build a gallery of Paris monuments! Let us begin."
    server = chat_server(lambda body, n: answer(prose))
    code, summary, _err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 1
    assert summary["state"] == "unusable_output"
    assert summary["final_answer"] == "stopped: the model did not produce usable code (3 tries)"
    assert len(server.requests) == 3
    assert "Answer with one short 'Thought:' line" in json.dumps(server.requests[1])
    steps = [s for s in report_of(summary)["steps"] if s["type"] == "action"]
    assert [s["model_output"].removesuffix("</code>") for s in steps] == [prose] * 3


def test_the_step_limit_is_named(tmp_path: Path, agent_spaces: Standins,
                                 chat_server: Callable[..., ChatServer],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    server = chat_server(lambda body, n: answer("Thought: look.\n<code>\nprint('hm')\n</code>"))
    code, summary, _err = run_json(write_goal(tmp_path, agent_spaces, server, max_steps=2),
                                  capsys)
    assert code == 1
    assert summary["final_answer"] == "stopped: step limit 2 reached"
    assert len(server.requests) == 2  # no extra "final answer" call
    assert report_of(summary)["ending"] == "stopped: step limit 2 reached"


def test_ctrl_c_still_writes_the_report(tmp_path: Path, agent_spaces: Standins,
                                        chat_server: Callable[..., ChatServer],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    planner = planner_script()

    def script(body: dict[str, Any], n: int) -> Reply:
        if n == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the model thinks
            return Reply(hang=True)
        return planner(body, n)

    server = chat_server(script)
    code, summary, _err = run_json(write_goal(tmp_path, agent_spaces, server), capsys)
    assert code == 130
    assert summary["state"] == "interrupted"
    report = report_of(summary)
    assert report["state"] == "interrupted"
    assert [s["type"] for s in report["steps"]].count("action") >= 1


def test_a_bad_goal_file_is_one_json_document(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "goal.toml"
    path.write_text('goal = "x"\n[limits]\nmodel_timeout = -1\n', encoding="utf-8")
    code, summary, err = run_json(path, capsys)
    assert code == 2
    assert summary["success"] is False and "limits.model_timeout" in summary["error"]
    assert err.count("limits.model_timeout") == 1
