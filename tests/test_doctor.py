"""``spacesmith doctor``: each check with its fix, exit 0 only when the path can work."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from spacesmith.agent.cli.main import main
from tests.fixtures.llm_server import ChatServer, answer


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--json", *args])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in data["checks"]}


def test_offline_passes_on_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = doctor(capsys, "--offline")
    assert code == 0 and data["ok"] is True, data
    checks = by_name(data)
    assert checks["stand-in Spaces"]["ok"] and checks["model"]["ok"]
    assert "offline planner" in checks["model"]["detail"]


def test_the_token_is_found_but_never_printed(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_doctorSecretValue")
    code = main(["doctor", "--offline", "--model", "offline"])
    out = capsys.readouterr().out
    assert "found in HF_TOKEN" in out and "hf_doctorSecretValue" not in out
    assert code == 0


def test_an_unreachable_model_fails_and_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    code, data = doctor(capsys, "--offline", "--model", "m", "--api-base", url)
    assert code == 1 and data["ok"] is False
    model = by_name(data)["model"]
    assert not model["ok"] and url in model["detail"] and model["fix"]


def test_a_live_model_reports_latency_and_window(capsys: pytest.CaptureFixture[str],
                                                 chat_server: Callable[..., ChatServer]) -> None:
    server = chat_server(lambda body, n: answer("OK"), props_window=16384)
    code, data = doctor(capsys, "--offline", "--model", "test-model", "--api-base", server.url)
    assert code == 0, data
    checks = by_name(data)
    assert checks["model list"]["ok"]
    assert "answered one token" in checks["model"]["detail"]
    assert "16384" in checks["model"]["detail"]
    assert server.requests[-1]["max_tokens"] == 1


def test_a_model_the_server_does_not_list_is_a_warning_with_the_ids(
        capsys: pytest.CaptureFixture[str], chat_server: Callable[..., ChatServer]) -> None:
    server = chat_server(lambda body, n: answer("OK"), models=("qwen2.5-coder",))
    _code, data = doctor(capsys, "--offline", "--model", "typo-model", "--api-base", server.url)
    listed = by_name(data)["model list"]
    assert not listed["ok"] and "qwen2.5-coder" in listed["detail"]
