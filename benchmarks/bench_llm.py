"""How long a failing model server holds a run, against smolagents' own models on the same
server, and what the bounded call costs on a healthy one.

    .venv/bin/python benchmarks/bench_llm.py [--timeout 2] [--cap 30] [--calls 40]

Servers are local scripted OpenAI-compatible servers (tests/fixtures/llm_server.py): one
that never answers, one that answers 500 with "429" in its text, and a closed port. For
each, one ``generate`` of spacesmith's ``ChatModel`` (``model_timeout`` = ``--timeout``,
3 tries, first backoff 1 s) and of the peers, smolagents' ``OpenAIServerModel`` and
``InferenceClientModel`` (on ``base_url``) as spacesmith built them before, each cut at
``--cap`` seconds (a cut peer is reported as "> cap"). The limit each spacesmith figure must
stay under is its budget: timeout + 1 s for a hang, the backoffs plus tries for the rest.
On a healthy server: the median time of one call through ``ChatModel`` (thread, deadline,
fitting) against the same request as a bare httpx POST (the floor). Writes
benchmarks/results/llm.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smolagents.models import ChatMessage, MessageRole  # noqa: E402

from spacesmith.agent.codeagent.llm import ChatModel, ModelLimits  # noqa: E402
from spacesmith.agent.codeagent.llm_clients import make_client  # noqa: E402
from tests.fixtures.llm_server import ChatServer, Reply, answer, error  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "llm.json"
MESSAGES = [ChatMessage(role=MessageRole.SYSTEM, content=[{"type": "text", "text": "sys"}]),
            ChatMessage(role=MessageRole.USER, content=[{"type": "text",
                                                         "text": "New task:\nsay hi"}])]


def capped(fn: Callable[[], Any], cap: float) -> tuple[float, str]:
    """Seconds until ``fn`` returned or raised, or ``cap`` when it was still running."""
    done = threading.Event()
    outcome: list[str] = []

    def work() -> None:
        try:
            fn()
            outcome.append("answered")
        except BaseException as exc:  # the figure is how long, not what
            outcome.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                           if str(exc) else type(exc).__name__)
        done.set()

    start = time.monotonic()
    threading.Thread(target=work, daemon=True).start()
    if not done.wait(cap):
        return cap, f"still waiting at {cap:g} s (cut)"
    return time.monotonic() - start, outcome[0]


def ours(url: str, timeout: float, client: str) -> ChatModel:
    os.environ["SPACESMITH_LLM_CLIENT"] = client
    limits = ModelLimits(timeout_s=timeout, backoff_s=1.0)
    return ChatModel(make_client(url, "not-needed", timeout), "m", url, limits=limits,
                     window=8192)


def peer_openai(url: str) -> Any:
    from smolagents import OpenAIServerModel

    return OpenAIServerModel(model_id="m", api_base=url, api_key="not-needed")


def peer_hub(url: str) -> Any:
    from huggingface_hub import InferenceClient
    from smolagents import InferenceClientModel

    class ServerModel(InferenceClientModel):  # type: ignore[misc]
        def create_client(self) -> InferenceClient:
            return InferenceClient(base_url=url, api_key="not-needed")

    return ServerModel(model_id="m", api_key="not-needed")


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def failures(timeout: float, cap: float) -> list[dict[str, Any]]:
    rows = []
    hang = ChatServer(lambda body, n: Reply(hang=True))
    busy = ChatServer(lambda body, n: error(500, "upstream 127.0.0.1:7429 said 429"))
    closed = closed_port_url()
    cases = [("hung server", hang.url, timeout + 1.0),
             ("500 with '429' in its text", busy.url, 3 * 0.5 + 1.0 + 2.0),
             ("refused connection", closed, 1.0 + 2.0 + 1.0)]
    try:
        for name, url, budget in cases:
            row: dict[str, Any] = {"case": name, "budget_s": budget}
            for client in ("openai", "hub"):
                model = ours(url, timeout, client)
                row[f"spacesmith_{client}_s"], row[f"spacesmith_{client}"] = capped(
                    lambda m=model: m.generate(MESSAGES), cap)
            for peer, make in (("smolagents_openai", peer_openai), ("smolagents_hub", peer_hub)):
                model = make(url)
                row[f"{peer}_s"], row[peer] = capped(lambda m=model: m.generate(MESSAGES), cap)
            rows.append(row)
            print(json.dumps(row))
    finally:
        hang.close()
        busy.close()
    return rows


def healthy(calls: int) -> dict[str, Any]:
    server = ChatServer(lambda body, n: answer("Thought: hi\n<code>\nprint(1)\n</code>"))
    try:
        model = ours(server.url, 30.0, "hub")
        body = {"model": "m", "messages": [{"role": "system", "content": "sys"},
                                           {"role": "user", "content": "New task:\nsay hi"}],
                "max_tokens": 2048}
        ours_s, floor_s = [], []
        with httpx.Client() as http:
            for _ in range(calls):  # interleaved, so load hits both alike
                start = time.perf_counter()
                model.generate(MESSAGES)
                ours_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                http.post(server.url + "/chat/completions", json=body).raise_for_status()
                floor_s.append(time.perf_counter() - start)
    finally:
        server.close()
    return {"calls": calls, "chatmodel_median_s": statistics.median(ours_s),
            "httpx_median_s": statistics.median(floor_s)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--cap", type=float, default=30.0)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    data = {"machine": platform.platform(), "cpus": os.cpu_count(),
            "model_timeout_s": args.timeout, "cap_s": args.cap,
            "failures": failures(args.timeout, args.cap), "healthy": healthy(args.calls)}
    print(json.dumps(data["healthy"]))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
