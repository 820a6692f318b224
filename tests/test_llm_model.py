"""ChatModel on a real local HTTP server: the wire form, the window, compaction, streaming."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from smolagents.models import ChatMessage, MessageRole

from spacesmith.agent.codeagent.llm import ChatModel, ModelLimits, wire_messages
from spacesmith.agent.codeagent.llm_clients import make_client
from spacesmith.agent.codeagent.server_info import probe_server
from tests.fixtures.llm_server import ChatServer, Reply, answer, error, text_of


def msg(role: MessageRole, text: str) -> ChatMessage:
    return ChatMessage(role=role, content=[{"type": "text", "text": text}])


def conversation(steps: int, observation: str = "x" * 3000) -> list[ChatMessage]:
    out = [msg(MessageRole.SYSTEM, "You write code. " * 50),
           msg(MessageRole.USER, "New task:\nbuild a gallery")]
    for i in range(steps):
        out.append(msg(MessageRole.ASSISTANT, f"Thought: step {i}\n<code>\nprint({i})\n</code>"))
        out.append(msg(MessageRole.TOOL_CALL, f"Calling tools: python_interpreter {i}"))
        out.append(msg(MessageRole.TOOL_RESPONSE, f"Observation:\nstep {i} " + observation))
    return out


def model_on(server: ChatServer, client: str, monkeypatch: pytest.MonkeyPatch, *,
             window: int = 8192, **limits: Any) -> ChatModel:
    monkeypatch.setenv("SPACESMITH_LLM_CLIENT", client)
    if client == "openai":
        pytest.importorskip("openai")
    lim = ModelLimits(timeout_s=10, **limits)
    return ChatModel(make_client(server.url, "not-needed", lim.timeout_s), "test-model",
                     server.url, limits=lim, window=window, sleep=lambda s: None)


def test_wire_form_is_strings_with_roles_merged() -> None:
    image = Image.new("RGB", (4, 4))
    messages = [msg(MessageRole.SYSTEM, "sys"), msg(MessageRole.USER, "New task:\nx"),
                msg(MessageRole.ASSISTANT, "a"), msg(MessageRole.TOOL_CALL, "call"),
                ChatMessage(role=MessageRole.TOOL_RESPONSE,
                            content=[{"type": "image", "image": image},
                                     {"type": "text", "text": "Observation: ok"}])]
    wire = wire_messages(messages)
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "user"]
    assert all(isinstance(m["content"], str) for m in wire)
    assert wire[2]["content"] == "a\ncall"
    assert "reads text only" in wire[3]["content"] and "Observation: ok" in wire[3]["content"]
    parts = wire_messages(messages, vision=True)
    assert parts[3]["content"][0]["type"] == "image_url"
    assert parts[3]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("client", ["openai", "hub"])
def test_a_long_context_refusal_is_compacted_and_sent_once_more(
        client: str, chat_server: Callable[..., ChatServer],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = chat_server(lambda body, n: answer("Thought: ok\n<code>\nprint(1)\n</code>"),
                         window=4096)
    model = model_on(server, client, monkeypatch, window=100_000, max_tokens=512)
    reply = model.generate(conversation(8), stop_sequences=["Observation:"])
    assert "print(1)" in str(reply.content)
    assert len(server.requests) == 2  # refused once, then fitted to the window it named
    assert model.window == 4096 and model.window_source == "the server's error"
    second = text_of(server.requests[1])
    assert "oldest messages of this conversation were dropped" in second
    assert "step 7" in second and "step 0 " not in second  # the newest steps are kept


def test_a_refusal_that_names_no_window_is_compacted_harder_once(
        chat_server: Callable[..., ChatServer], monkeypatch: pytest.MonkeyPatch) -> None:
    server = chat_server(lambda body, n: answer("<code>\nprint(1)\n</code>"), window=4600,
                         refusal="the request exceeds the available context size, try "
                                 "increasing it")
    model = model_on(server, "hub", monkeypatch, window=100_000, max_tokens=512)
    model.generate(conversation(8))
    assert len(server.requests) == 2
    first, second = (len(text_of(b)) for b in server.requests)
    assert second <= first * 0.75 and server.requests[1]["max_tokens"] == 256


def test_the_window_from_props_keeps_requests_inside_it(
        chat_server: Callable[..., ChatServer], monkeypatch: pytest.MonkeyPatch) -> None:
    server = chat_server(lambda body, n: answer("<code>\nprint(2)\n</code>"),
                         window=4096, props_window=4096)
    info = probe_server(server.url, None, "test-model")
    assert info.window == 4096 and info.models == ("test-model",)
    model = model_on(server, "hub", monkeypatch, window=info.window, max_tokens=512)
    for steps in (1, 4, 12):
        model.generate(conversation(steps))
    assert len(server.requests) == 3  # never refused: compacted before sending
    assert all(b["max_tokens"] <= 512 for b in server.requests)


def test_openai_path_streams_and_reads_a_plain_json_answer(
        chat_server: Callable[..., ChatServer], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    text = "Thought: go\n<code>\nprint('streamed')\n</code>\nObservation: made up"
    for streams in (True, False):
        server = chat_server(lambda body, n: answer(text), streams=streams)
        model = model_on(server, "openai", monkeypatch)
        model.on_text = seen.append
        reply = model.generate(conversation(1), stop_sequences=["Observation:"])
        assert str(reply.content) == text.split("Observation:")[0]
        assert server.requests[0]["stream"] is True
    assert len([s for s in seen if s.strip()]) > 2  # more than one piece: it streamed


@pytest.mark.parametrize("streams", [True, False])
def test_answers_under_an_odd_content_type_are_read(
        streams: bool, chat_server: Callable[..., ChatServer],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = chat_server(lambda body, n: answer("<code>\nprint(3)\n</code>"), streams=streams,
                         content_type="text/plain")
    reply = model_on(server, "openai", monkeypatch).generate(conversation(1))
    assert "print(3)" in str(reply.content)


def test_a_hung_server_is_cut_at_the_deadline(
        chat_server: Callable[..., ChatServer], monkeypatch: pytest.MonkeyPatch) -> None:
    from spacesmith.tools.errors import ModelError

    server = chat_server(lambda body, n: Reply(hang=True))
    model = model_on(server, "hub", monkeypatch)
    model.limits = ModelLimits(timeout_s=0.5)
    with pytest.raises(ModelError, match=r"did not answer within 0.5 s"):
        model.generate(conversation(1))
    assert len(server.requests) == 1


@pytest.mark.parametrize(("status", "body", "context", "window"), [
    (400, '{"error": {"message": "This model\'s maximum context length is 8192 tokens. '
          'However, you requested 10461 tokens"}}', True, 8192),  # llama-cpp-python, vLLM
    (400, '{"error": {"code": 400, "message": "the request exceeds the available context '
          'size, try increasing it", "type": "exceed_context_size_error", "n_ctx": 4096}}',
     True, 4096),  # llama.cpp's server
    (500, '{"error": {"message": "upstream 127.0.0.1:7429 said: 429 Too Many Requests"}}',
     False, None),  # a 500 that mentions 429 is neither a rate limit nor a length refusal
    (500, "[json.exception.type_error.302] type must be string, but is array", False, None),
])
def test_error_bodies_are_read_by_status_and_shape(status: int, body: str, context: bool,
                                                   window: int | None) -> None:
    from spacesmith.agent.codeagent.llm import is_context_error, window_from_error
    from spacesmith.agent.codeagent.llm_clients import CallFailure, error_detail

    failure = CallFailure("status", error_detail(body), status=status)
    assert is_context_error(failure) is context
    assert window_from_error(failure.detail) == window


@pytest.mark.parametrize(("output", "code", "error", "expected"), [
    ("I will help you!", None, "parse", True),
    ("", "", None, True),
    ("Thought: x\n<code>\nprint(1)\n</code>", "print(1)", None, False),
    ("Thought: x\n<code>\nfor for\n</code>", "for for", "Code parsing failed on line 1", True),
    ("Thought: x\n<code>\nundefined_name\n</code>", "undefined_name", "NameError", False),
    (None, None, "max steps", False),  # the step-limit marker holds no answer to judge
])
def test_which_answers_are_unusable(output: str | None, code: str | None, error: str | None,
                                    expected: bool) -> None:
    from smolagents.memory import ActionStep
    from smolagents.monitoring import AgentLogger, LogLevel, Timing
    from smolagents.utils import AgentExecutionError, AgentParsingError

    from spacesmith.agent.codeagent.output_guard import unusable

    logger = AgentLogger(level=LogLevel.OFF)
    step = ActionStep(step_number=1, timing=Timing(start_time=0.0), model_output=output,
                      code_action=code)
    if error == "parse":
        step.error = AgentParsingError("no code", logger)
    elif error is not None:
        step.error = AgentExecutionError(error, logger)
    assert unusable(step) is expected


def test_a_trickling_stream_is_cut_at_the_deadline(
        chat_server: Callable[..., ChatServer], monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes keep coming, so no read times out: the call's own deadline ends it."""
    from spacesmith.tools.errors import ModelError

    server = chat_server(lambda body, n: Reply(trickle=True))
    model = model_on(server, "openai", monkeypatch)
    model.limits = ModelLimits(timeout_s=1.0)
    seen: list[str] = []
    model.on_text = seen.append
    with pytest.raises(ModelError, match=r"did not answer within 1 s"):
        model.generate(conversation(1))
    assert "." in seen and len(server.requests) == 1


def test_a_key_echoed_by_the_server_is_not_in_the_error(
        chat_server: Callable[..., ChatServer], monkeypatch: pytest.MonkeyPatch) -> None:
    from spacesmith.tools.errors import ModelError

    server = chat_server(lambda body, n: error(401, "bad key sk-secret-123"))
    monkeypatch.setenv("SPACESMITH_LLM_CLIENT", "hub")
    lim = ModelLimits(timeout_s=5)
    model = ChatModel(make_client(server.url, "sk-secret-123", 5), "m", server.url,
                      limits=lim, window=8192, secret="sk-secret-123")
    with pytest.raises(ModelError) as caught:
        model.generate(conversation(1))
    assert "sk-secret-123" not in str(caught.value) and "HTTP 401" in str(caught.value)
