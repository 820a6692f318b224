"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (a real HTTP server).

Each ``POST …/chat/completions`` answers with the next code block of the script wrapped the
way a CodeAgent expects (``Thought: … <code>…</code>``); past the end it answers
``final_answer(...)``. Every request body is recorded, so a test can check what the model
saw. Message content may be a plain string or a list of parts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ScriptedLLM:
    """The server's state: the script, where it is, and every request seen."""

    script: list[str]
    final: str = 'final_answer("Goal not reached: the script ended")'
    position: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    url: str = ""

    def next_code(self) -> str:
        if self.position < len(self.script):
            code = self.script[self.position]
            self.position += 1
            return code
        return self.final

    def seen_text(self) -> str:
        """Everything the model was sent, as one string."""
        return "\n".join(body.decode("utf-8", "replace") for body in self.raw)


def _handler(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            with lock:
                llm.raw.append(body)
                try:
                    llm.requests.append(json.loads(body))
                except ValueError:
                    llm.requests.append({})
                code = llm.next_code()
            if not self.path.rstrip("/").endswith("chat/completions"):
                self.send_error(404)
                return
            content = f"Thought: next step.\n<code>\n{code}\n</code>"
            answer = json.dumps({
                "id": f"chatcmpl-{len(llm.requests)}", "object": "chat.completion",
                "created": 0, "model": "scripted",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    return Handler


@contextmanager
def scripted_llm(script: Sequence[str], final: str | None = None) -> Iterator[ScriptedLLM]:
    """Serve ``script`` on 127.0.0.1; the ``url`` attribute is the ``api_base`` (``…/v1``)."""
    llm = ScriptedLLM(list(script))
    if final is not None:
        llm.final = final
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(llm))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    llm.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield llm
    finally:
        server.shutdown()
        server.server_close()
