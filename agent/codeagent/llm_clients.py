"""The HTTP clients that reach an OpenAI-compatible chat server, behind one seam.

``openai`` when it is installed (built with ``max_retries=0``: retries are ours, in
:mod:`spacesmith.agent.codeagent.llm`), else huggingface_hub's ``InferenceClient`` with
``base_url``. ``SPACESMITH_LLM_CLIENT=hub`` (or ``openai``) forces one. Each call gets its
deadline as the client's timeout, and every failure is mapped here, once, to a
:class:`CallFailure` by its type and HTTP status, never by the text of the message (a 500
whose body echoes "429" is a 500).

Only the openai client streams: it reads either server-sent events or a plain JSON answer
(some servers ignore ``stream``); huggingface_hub's stream reader would drop a JSON answer,
so that path asks for the whole answer at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

TextSink = Callable[[str], None]
FailureKind = Literal["status", "timeout", "connection", "protocol"]
CLIENT_ENV = "SPACESMITH_LLM_CLIENT"


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request, in the wire form (string or parts content)."""

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int
    stop: list[str] | None
    timeout_s: float


@dataclass(frozen=True)
class Completion:
    """What the server wrote, with its token counts when it gave them."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None


class CallFailure(Exception):
    """One failed request: what kind of failure, the HTTP status and the server's words."""

    def __init__(self, kind: FailureKind, detail: str, *, status: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.kind: FailureKind = kind
        self.detail = " ".join(detail.split())[:300]
        self.status = status
        self.retry_after_s = retry_after_s


class ChatClient(Protocol):
    """A client for ``POST {base}/chat/completions``."""

    name: str

    def complete(self, request: ChatRequest, on_text: TextSink | None) -> Completion:
        """Send one request; raise :class:`CallFailure` on any failure."""
        ...


def make_client(base_url: str, api_key: str, timeout_s: float) -> ChatClient:
    """The openai client when installed (or forced by ``SPACESMITH_LLM_CLIENT``), else
    huggingface_hub's ``InferenceClient``."""
    forced = os.environ.get(CLIENT_ENV, "").strip().lower()
    if forced != "hub":
        try:
            import openai  # noqa: F401
        except ImportError:
            if forced == "openai":
                from spacesmith.tools.errors import AgentError

                raise AgentError(f"{CLIENT_ENV}=openai but the openai package is not installed",
                                 hint="pip install openai, or unset it") from None
        else:
            return OpenAIChatClient(base_url, api_key, timeout_s)
    return HubChatClient(base_url, api_key, timeout_s)


def error_detail(body: str) -> str:
    """The server's own message from an error body (OpenAI ``{"error": {"message"}}``,
    llama.cpp, vLLM, TGI shapes), else the body's start."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    if isinstance(data, dict):
        found = data.get("error", data.get("detail", data.get("message")))
        if isinstance(found, dict):
            n_ctx = found.get("n_ctx")  # llama.cpp names its window beside the message
            found = found.get("message", found)
            if isinstance(n_ctx, int):
                found = f"{found} (context size {n_ctx})"
        if isinstance(found, list) and found and isinstance(found[0], dict):
            found = found[0].get("msg", found[0])
        if found is not None:
            return str(found)[:300]
    return body.strip()[:300]


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _transport_kind(exc: BaseException) -> FailureKind | None:
    """httpx and httpx2 alike, by class names (no import of either needed)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names or "InferenceTimeoutError" in names:
        return "timeout"
    if names & {"TransportError", "NetworkError", "ProtocolError", "ConnectionError"}:
        return "connection"
    return None


def _chunk_text(chunk: Any) -> tuple[str, str | None]:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return "", None
    delta = getattr(choices[0], "delta", None)
    return (getattr(delta, "content", None) or ""), getattr(choices[0], "finish_reason", None)


def _usage(usage: Any) -> tuple[int | None, int | None]:
    if usage is None:
        return None, None
    if isinstance(usage, dict):
        return usage.get("prompt_tokens"), usage.get("completion_tokens")
    return getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)


def completion_from_json(data: Any) -> Completion:
    """A non-streamed ``chat.completion`` document → :class:`Completion`.

    Raises:
        CallFailure: the document has no ``choices[0].message``.
    """
    try:
        choice = data["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise CallFailure("protocol", f"the answer has no choices[0].message: "
                          f"{json.dumps(data)[:200]}") from exc
    prompt, completion = _usage(data.get("usage"))
    return Completion(str(text), prompt, completion, choice.get("finish_reason"))


class OpenAIChatClient:
    """The ``openai`` package's client, no hidden retries, streaming."""

    name = "openai"

    def __init__(self, base_url: str, api_key: str, timeout_s: float) -> None:
        import openai

        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s,
                                     max_retries=0)

    def complete(self, request: ChatRequest, on_text: TextSink | None) -> Completion:
        openai = self._openai
        try:
            stream = self._client.chat.completions.create(
                model=request.model, messages=request.messages,  # type: ignore[arg-type]
                max_tokens=request.max_tokens, stop=request.stop, stream=True,
                timeout=request.timeout_s)
            return self._read(stream, on_text)
        except openai.APIStatusError as exc:
            raise CallFailure("status", error_detail(exc.response.text) or exc.message,
                              status=exc.status_code,
                              retry_after_s=_retry_after(exc.response.headers)) from exc
        except openai.APITimeoutError as exc:
            raise CallFailure("timeout", "no answer in time") from exc
        except openai.APIConnectionError as exc:
            cause = exc.__cause__
            raise CallFailure("connection", str(cause or exc) or "connection failed") from exc
        except openai.OpenAIError as exc:
            raise CallFailure("protocol", str(exc)) from exc
        except ValueError as exc:  # an event that is not JSON
            raise CallFailure("protocol", f"unreadable answer: {exc}") from exc

    @staticmethod
    def _read(stream: Any, on_text: TextSink | None) -> Completion:
        response = stream.response
        if "event-stream" not in response.headers.get("content-type", ""):
            try:  # a server that ignored "stream", or sent events under another type
                return completion_from_body(response.read().decode("utf-8", "replace"),
                                            on_text)
            finally:
                stream.close()
        parts: list[str] = []
        finish: str | None = None
        prompt = completion = None
        try:
            for chunk in stream:
                text, reason = _chunk_text(chunk)
                finish = reason or finish
                if getattr(chunk, "usage", None) is not None:
                    prompt, completion = _usage(chunk.usage)
                if text:
                    parts.append(text)
                    if on_text is not None:
                        on_text(text)
        finally:
            stream.close()
        return Completion("".join(parts), prompt, completion, finish)


def completion_from_body(body: str, on_text: TextSink | None = None) -> Completion:
    """A whole answer body: a ``chat.completion`` JSON document, or server-sent events.

    Raises:
        CallFailure: neither.
    """
    try:
        return completion_from_json(json.loads(body))
    except ValueError:
        pass
    parts: list[str] = []
    finish: str | None = None
    prompt = completion = None
    for line in body.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[len("data:"):].strip()
        if payload == "[DONE]":
            break
        try:
            event = json.loads(payload)
            choice = (event.get("choices") or [{}])[0]
            text = (choice.get("delta") or {}).get("content") or ""
        except (ValueError, AttributeError, IndexError, TypeError) as exc:
            raise CallFailure("protocol", f"unreadable event: {payload[:200]}") from exc
        finish = choice.get("finish_reason") or finish
        if event.get("usage"):
            prompt, completion = _usage(event["usage"])
        parts.append(text)
    if finish is None and not parts:
        raise CallFailure("protocol", f"neither a chat completion nor events: {body[:200]}")
    text = "".join(parts)
    if on_text is not None and text:
        on_text(text)
    return Completion(text, prompt, completion, finish)


class HubChatClient:
    """huggingface_hub's ``InferenceClient`` with ``base_url`` (whole answers)."""

    name = "huggingface_hub"

    def __init__(self, base_url: str, api_key: str, timeout_s: float) -> None:
        from huggingface_hub import InferenceClient

        self._client = InferenceClient(base_url=base_url, api_key=api_key, timeout=timeout_s)

    def complete(self, request: ChatRequest, on_text: TextSink | None) -> Completion:
        from huggingface_hub.errors import HfHubHTTPError

        self._client.timeout = request.timeout_s
        try:
            out = self._client.chat_completion(request.messages, model=request.model,
                                               max_tokens=request.max_tokens, stop=request.stop)
        except HfHubHTTPError as exc:
            response = exc.response
            raise CallFailure("status", error_detail(response.text) if response is not None
                              else str(exc), status=response.status_code if response is not None
                              else None, retry_after_s=_retry_after(
                                  response.headers if response is not None else None)) from exc
        except Exception as exc:
            kind = _transport_kind(exc)
            if kind is None:
                raise CallFailure("protocol", f"{type(exc).__name__}: {exc}") from exc
            raise CallFailure(kind, "no answer in time" if kind == "timeout"
                              else str(exc) or type(exc).__name__) from exc
        choice = out.choices[0] if out.choices else None
        text = (choice.message.content or "") if choice is not None else ""
        if on_text is not None and text:
            on_text(text)
        prompt, completion = _usage(out.usage)
        return Completion(text, prompt, completion,
                          getattr(choice, "finish_reason", None) if choice else None)


def iter_model_ids(data: Any) -> Iterable[str]:
    """Model ids from a ``GET /models`` answer (OpenAI ``data`` list or llama.cpp ``models``)."""
    if not isinstance(data, dict):
        return
    for key in ("data", "models"):
        for item in data.get(key) or []:
            if isinstance(item, dict):
                for field in ("id", "model", "name"):
                    if isinstance(item.get(field), str):
                        yield item[field]
                        break
