"""The LLM behind the CodeAgent: an OpenAI-compatible chat server, every call bounded.

:class:`ChatModel` is the smolagents ``Model`` for every server (Inference Providers,
Ollama, vLLM, llama.cpp). What it guarantees, whatever the server does:

- **The wire form every server accepts**: each message's content is one string (parts, with
  images, only for a vision model); tool-call and tool-response roles become assistant and
  user; neighbours with the same role are merged.
- **A deadline per call** (``model_timeout``): the client's timeout, and a watchdog for
  servers that trickle bytes; a hung server costs that much, no more.
- **Bounded, explicit retries**: 429, 5xx and refused connections, at most
  :data:`MODEL_ATTEMPTS` tries with doubling waits (``Retry-After`` honoured, capped). The
  decision reads the HTTP status, never the text: a deterministic 500 whose body holds
  "429" is tried the same bounded number of times as any 500. Timeouts are not retried.
- **A context that fits**: the window comes from the server (llama.cpp ``/props``,
  ``/models`` metadata), a setting, or :data:`DEFAULT_WINDOW`. Long observations are cut to
  a budget, and old steps are dropped (with a note to the model) before the request would
  overflow. If the server still refuses the length, the request is compacted to half and
  sent once more; the window the server names in its error is learnt.
- ``max_tokens`` on every request.

Failures end as one :class:`~spacesmith.tools.errors.ModelError` line naming the server
and the cause.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smolagents.models import ChatMessage, MessageRole, Model
from smolagents.monitoring import TokenUsage

from spacesmith.agent.codeagent.llm_clients import (
    CallFailure,
    ChatClient,
    ChatRequest,
    Completion,
    TextSink,
)
from spacesmith.tools.errors import ModelError

DEFAULT_WINDOW = 8192
DEFAULT_MAX_TOKENS = 2048
DEFAULT_MODEL_TIMEOUT_S = 120.0
MODEL_ATTEMPTS = 3
MAX_BACKOFF_S = 30.0
CHARS_PER_TOKEN = 3.0  # conservative for English and code: estimates err on the long side
MESSAGE_OVERHEAD = 8  # tokens a chat template adds around each message
IMAGE_TOKENS = 1000
MIN_ANSWER_TOKENS = 256
OBSERVATION_SHARE = 0.15  # of the window, at most, for one observation
_CONTEXT_ERROR = re.compile(r"context (length|size|window)|maximum context|too many tokens|"
                            r"prompt is too long|exceed_context|n_ctx|input is too long|"
                            r"longer than the model", re.IGNORECASE)
_WINDOW_IN_ERROR = re.compile(r"(?:maximum context length|context (?:length|size|window))"
                              r"\D{0,24}(\d{3,7})", re.IGNORECASE)
_ROLES = {MessageRole.TOOL_CALL.value: "assistant", MessageRole.TOOL_RESPONSE.value: "user"}


@dataclass(frozen=True)
class ModelLimits:
    """The bounds of every model call.

    Attributes:
        timeout_s: the deadline of one request, streaming included.
        max_tokens: the most tokens one answer may have.
        context_window: the model's window in tokens; None: ask the server, else default.
        backoff_s: the first wait before a retry (doubles).
        attempts: tries of a request that failed with 429, 5xx or a refused connection.
    """

    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S
    max_tokens: int = DEFAULT_MAX_TOKENS
    context_window: int | None = None
    backoff_s: float = 1.0
    attempts: int = MODEL_ATTEMPTS


def _role(message: Any) -> str:
    role = message.role if isinstance(message, ChatMessage) else message.get("role")
    value = role.value if isinstance(role, MessageRole) else str(role)
    return _ROLES.get(value, value)


def _parts(message: Any) -> list[dict[str, Any]]:
    content = message.content if isinstance(message, ChatMessage) else message.get("content")
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [p if isinstance(p, dict) else {"type": "text", "text": str(p)} for p in content]


def _image_part(part: dict[str, Any]) -> dict[str, Any]:
    from smolagents.models import encode_image_base64, make_image_url

    if part.get("type") == "image_url":
        return part
    image = part.get("image")
    url = image if isinstance(image, str) else make_image_url(encode_image_base64(image))
    return {"type": "image_url", "image_url": {"url": url}}


def wire_messages(messages: Sequence[Any], *, vision: bool = False) -> list[dict[str, Any]]:
    """smolagents messages → the chat-completions wire form.

    Args:
        messages: ``ChatMessage`` objects or dicts with ``role`` and ``content``.
        vision: keep images, as content parts; otherwise every content is one string and
            images are replaced by a one-line note.

    Returns:
        ``[{"role": ..., "content": str | list}]`` with same-role neighbours merged.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        role = _role(message)
        parts: list[dict[str, Any]] = []
        for part in _parts(message):
            if part.get("type") in ("image", "image_url"):
                parts.append(_image_part(part) if vision
                             else {"type": "text", "text": "[an image was attached here; "
                                   "this model reads text only]"})
            elif part.get("text"):
                parts.append({"type": "text", "text": str(part["text"])})
        if out and out[-1]["role"] == role:
            if vision:
                out[-1]["content"].extend(parts)
            else:
                out[-1]["content"] = "\n".join(
                    t for t in (out[-1]["content"], *(p["text"] for p in parts)) if t)
            continue
        content: Any = parts if vision else "\n".join(p["text"] for p in parts)
        out.append({"role": role, "content": content})
    return out


def estimate_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """A deliberately high estimate of a request's prompt tokens."""
    total = 0
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            total += math.ceil(len(content) / CHARS_PER_TOKEN)
        else:
            for part in content:
                total += (IMAGE_TOKENS if part.get("type") == "image_url"
                          else math.ceil(len(part.get("text", "")) / CHARS_PER_TOKEN))
        total += MESSAGE_OVERHEAD
    return total


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = max(limit - 80, 40)
    head, tail = text[: keep * 2 // 3], text[-(keep // 3):]
    return f"{head}\n… [{len(text) - len(head) - len(tail)} characters cut to fit the " \
           f"context window] …\n{tail}"


def _clip_message(message: dict[str, Any], limit: int) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return {**message, "content": _clip(content, limit)}
    return {**message, "content": [
        {**p, "text": _clip(p["text"], limit)} if p.get("type") == "text" else p
        for p in content]}


def _with_note(message: dict[str, Any], note: str) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return {**message, "content": f"{content}\n\n{note}"}
    return {**message, "content": [*content, {"type": "text", "text": note}]}


def _as_parts(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else [{"type": "text", "text": str(content)}]


def _merge(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge same-role neighbours (strict chat templates want roles to alternate)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if out and out[-1]["role"] == message["role"]:
            a, b = out[-1]["content"], message["content"]
            if isinstance(a, str) and isinstance(b, str):
                out[-1] = {**out[-1], "content": f"{a}\n{b}"}
            else:
                out[-1] = {**out[-1], "content": [*_as_parts(a), *_as_parts(b)]}
            continue
        out.append(message)
    return out


def fit_messages(messages: list[dict[str, Any]], budget: int, *,
                 observation_chars: int) -> tuple[list[dict[str, Any]], int]:
    """Make a request fit ``budget`` prompt tokens.

    The system prompt and the first task stay; every later message is cut to
    ``observation_chars``; then the oldest messages are dropped (never the latest task nor
    the last message) and the task says so; then the kept messages are cut further.

    Returns:
        The messages and how many were dropped.

    Raises:
        ModelError: not even the system prompt, the task and the last message fit.
    """
    lead = 2 if messages and messages[0]["role"] == "system" else 1
    head = messages[:lead]
    rest = [_clip_message(m, observation_chars) for m in messages[lead:]]
    if estimate_tokens(head + rest) <= budget:
        return head + rest, 0
    tasks = [i for i, m in enumerate(rest) if _text(m).startswith("New task:")]
    keep = tasks[-1] if tasks else -1
    dropped = 0
    while estimate_tokens(head + rest) > budget:
        candidates = [i for i in range(len(rest) - 1) if i != keep]
        if not candidates:
            break
        rest.pop(candidates[0])
        dropped += 1
        keep = keep - 1 if candidates[0] < keep else keep
    if dropped and head:
        head = [*head[:-1], _with_note(head[-1], (
            f"(The {dropped} oldest messages of this conversation were dropped to fit the "
            "model's context window; what those steps made is in the workspace.)"))]
    limit = observation_chars
    while estimate_tokens(head + rest) > budget and limit > 400:
        limit //= 2
        rest = [_clip_message(m, limit) for m in rest]
    fitted = _merge(head + rest)
    needed = estimate_tokens(fitted)
    if needed > budget:
        raise ModelError(f"the model's context window is too small for this agent: its "
                         f"prompt needs about {needed} tokens and {budget} are free",
                         hint="use a model or server with a larger context window "
                              "(llama.cpp: -c 16384), or set [limits] context_window")
    return fitted, dropped


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content)


def window_from_error(detail: str) -> int | None:
    """The window a server names in its context-length error, if it does."""
    found = _WINDOW_IN_ERROR.search(detail)
    return int(found.group(1)) if found else None


def is_context_error(failure: CallFailure) -> bool:
    """A refusal because the request is too long (400/413/422/500 with such words)."""
    return (failure.kind == "status" and failure.status in (400, 413, 422, 500)
            and bool(_CONTEXT_ERROR.search(failure.detail)))


def _retryable(failure: CallFailure) -> bool:
    if failure.kind == "connection":
        return True
    return failure.kind == "status" and failure.status is not None and (
        failure.status == 429 or failure.status >= 500)


class _Cancelled(Exception):
    """Raised inside a streaming read whose deadline has passed."""


class ChatModel(Model):  # type: ignore[misc]
    """A smolagents ``Model`` on an OpenAI-compatible server, every call bounded.

    Args:
        client: the HTTP client (openai or huggingface_hub).
        model_id: the id sent in each request.
        server: the server's URL, for messages.
        limits: timeout, max_tokens, window, retries.
        window: the context window in tokens (known or assumed).
        window_source: where ``window`` came from, for reports ("server /props", ...).
        vision: send images as content parts (only for vision models).
        on_text: receives the answer's text as it streams in (a display), or None.
        sleep: waits between retries (tests pass a recorder).
        auth_hint: what to do on 401/403.
        secret: the key sent to the server, scrubbed from error messages (a server may echo
            it back).
    """

    def __init__(self, client: ChatClient, model_id: str, server: str, *,
                 limits: ModelLimits, window: int, window_source: str = "default",
                 vision: bool = False, on_text: TextSink | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 auth_hint: str = "set OPENAI_API_KEY for this server",
                 secret: str | None = None) -> None:
        super().__init__(model_id=model_id)
        self.client = client
        self.server = server
        self.limits = limits
        self.window = window
        self.window_source = window_source
        self.vision = vision
        self.on_text = on_text
        self.sleep = sleep
        self.auth_hint = auth_hint
        self._secret = secret
        self.calls = 0
        self.retries = 0
        self.dropped_messages = 0

    # -- smolagents' entry point --------------------------------------------------------

    def generate(self, messages: list[Any],  # type: ignore[override]
                 stop_sequences: list[str] | None = None,
                 response_format: dict[str, str] | None = None,
                 tools_to_call_from: list[Any] | None = None, **kwargs: Any) -> ChatMessage:
        """One answer for ``messages``, within the limits; raises ModelError otherwise."""
        wire = wire_messages(messages, vision=self.vision)
        markers = list(stop_sequences or [])
        # OpenAI takes at most 4; reasoning models (o3, gpt-5…) refuse "stop" altogether
        stop = markers[:4] if markers and self.supports_stop_parameter else None
        completion = self._complete(wire, stop)
        text = completion.text
        for marker in markers:
            if marker in text:
                text = text.split(marker, 1)[0]
        usage = TokenUsage(
            input_tokens=completion.input_tokens if completion.input_tokens is not None
            else estimate_tokens(wire),
            output_tokens=completion.output_tokens if completion.output_tokens is not None
            else math.ceil(len(text) / 4))
        return ChatMessage(role=MessageRole.ASSISTANT, content=text, token_usage=usage)

    def ping(self) -> tuple[float, str]:
        """One one-token request, one try, within the deadline: (seconds, its text).

        Raises:
            ModelError: the server failed, named with the cause.
        """
        request = ChatRequest(str(self.model_id), [{"role": "user", "content": "Say OK."}],
                              1, None, self.limits.timeout_s)
        start = time.monotonic()
        try:
            completion = self._bounded(request)
        except CallFailure as failure:
            raise self._error(failure, 1) from failure
        return time.monotonic() - start, completion.text

    # -- the bounded call -----------------------------------------------------------------

    def _answer_tokens(self) -> int:
        return max(MIN_ANSWER_TOKENS, min(self.limits.max_tokens, self.window // 4))

    def _fit(self, wire: list[dict[str, Any]],
             budget: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """The request fitted to the window (or to ``budget`` prompt tokens), and the
        ``max_tokens`` that still fits beside it."""
        if budget is None:
            budget = self.window - self._answer_tokens()
        observation = int(self.window * OBSERVATION_SHARE * CHARS_PER_TOKEN)
        fitted, dropped = fit_messages(wire, budget, observation_chars=observation)
        self.dropped_messages = max(self.dropped_messages, dropped)
        room = self.window - estimate_tokens(fitted)
        return fitted, max(MIN_ANSWER_TOKENS, min(self.limits.max_tokens, room))

    def _complete(self, wire: list[dict[str, Any]], stop: list[str] | None) -> Completion:
        fitted, max_tokens = self._fit(wire)
        compacted = False
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            request = ChatRequest(str(self.model_id), fitted, max_tokens, stop,
                                  self.limits.timeout_s)
            try:
                return self._bounded(request)
            except CallFailure as failure:
                if is_context_error(failure) and not compacted:
                    compacted = True
                    attempt -= 1
                    learnt = window_from_error(failure.detail)
                    if learnt is not None and learnt < self.window:
                        self.window, self.window_source = learnt, "the server's error"
                        fitted, max_tokens = self._fit(wire)
                    else:  # the server did not say: ask for much less, prompt and answer
                        smaller = max(MIN_ANSWER_TOKENS, max_tokens // 2)
                        fitted, _ = self._fit(wire, int(estimate_tokens(fitted) * 0.6))
                        max_tokens = smaller
                    continue
                if _retryable(failure) and attempt < self.limits.attempts:
                    self.retries += 1
                    wait = self.limits.backoff_s * 2 ** (attempt - 1)
                    if failure.retry_after_s is not None:
                        wait = max(wait, failure.retry_after_s)
                    self.sleep(min(wait, MAX_BACKOFF_S))
                    continue
                raise self._error(failure, attempt) from failure

    def _bounded(self, request: ChatRequest) -> Completion:
        """Run the request in a worker thread and wait at most its deadline (plus a grace
        second): a server that trickles bytes cannot hold the run past it."""
        box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
        cancelled = threading.Event()
        display = self.on_text

        def sink(text: str) -> None:
            if cancelled.is_set():
                raise _Cancelled
            if display is not None:
                display(text)

        def work() -> None:
            try:
                box.put((True, self.client.complete(request, sink)))
            except BaseException as exc:  # handed to the waiting thread
                box.put((False, exc))

        worker = threading.Thread(target=work, name="model-call", daemon=True)
        worker.start()
        try:
            ok, value = box.get(timeout=request.timeout_s + 1.0)
        except queue.Empty:
            cancelled.set()
            raise CallFailure("timeout", "no complete answer in time") from None
        finally:
            if display is not None:
                display("\n")
        if ok:
            completion: Completion = value
            return completion
        if isinstance(value, CallFailure):
            raise value
        raise CallFailure("protocol", f"{type(value).__name__}: {value}") from value

    def _error(self, failure: CallFailure, attempts: int) -> ModelError:
        if self._secret and len(self._secret) > 3:
            failure.detail = failure.detail.replace(self._secret, "***")
        where = f"the model server at {self.server}"
        tries = f" ({attempts} tries)" if attempts > 1 else ""
        if failure.kind == "timeout":
            return ModelError(f"{where} did not answer within {self.limits.timeout_s:g} s",
                              hint="check that it is running and not overloaded, or raise "
                                   "[limits] model_timeout")
        if failure.kind == "connection":
            return ModelError(f"{where} cannot be reached{tries}: {failure.detail}",
                              hint="start the server, or fix --api-base / api_base")
        if failure.kind == "protocol":
            return ModelError(f"{where} gave an answer that is not a chat completion: "
                              f"{failure.detail}",
                              hint="is api_base the OpenAI-compatible root (ending in /v1)?")
        status = failure.status
        if is_context_error(failure):
            return ModelError(f"{where} refused the request as too long for its context "
                              f"window even after compacting it: {failure.detail}",
                              hint="start it with a larger context (llama.cpp: -c 16384), or "
                                   "set [limits] context_window")
        hint = {401: self.auth_hint, 403: self.auth_hint,
                404: "check the model id (spacesmith doctor lists the server's models) and "
                     "that api_base ends in /v1",
                429: "the server is rate limiting; wait, or use another model"}.get(
                    status or 0, "see the server's log; spacesmith doctor checks the model")
        return ModelError(f"{where} answered HTTP {status}{tries}: {failure.detail}",
                          hint=hint)
