"""What a local server cannot reproduce: the Hub's runtime API and *.hf.space hosts (these use
httpx.MockTransport), plus the SSE and error-text parsers, and concurrent calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacesmith.tools.errors import AppError, DiscoveryError, QuotaError, SpaceUnavailableError
from spacesmith.tools.hub.runtime import wait_until_running
from spacesmith.tools.spaces.client import SpaceClient
from spacesmith.tools.spaces.http_errors import error_from_event, parse_retry_in
from spacesmith.tools.spaces.sse import iter_events

SPACE = "owner/Demo.App"
HOST = "owner-demo-app.hf.space"


def hub(stages: list[str], seen: list[httpx.Request]) -> httpx.Client:
    """A fake Hub + Space: runtime stages in turn, an agents.md, a one-endpoint /info."""
    agents_md = (f"To use this application ({SPACE}: demo):\n"
                 f"API schema: GET https://{HOST}/gradio_api/info\n"
                 f"Call endpoint: POST https://{HOST}/gradio_api/call/v2/{{endpoint}} {{}}\n")
    info = {"named_endpoints": {"/predict": {"parameters": [], "returns": []}}}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == f"/api/spaces/{SPACE}/runtime":
            stage = stages.pop(0) if len(stages) > 1 else stages[0]
            return httpx.Response(200, json={"stage": stage, "hardware": {"current": "zero-a10g"}})
        if path == f"/spaces/{SPACE}/agents.md":
            return httpx.Response(200, text=agents_md)
        if request.url.host == HOST and path == "/gradio_api/info":
            return httpx.Response(200, json=info)
        return httpx.Response(200, text="awake")

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_hub_id_waits_while_building_then_connects() -> None:
    seen: list[httpx.Request] = []
    stages: list[str] = []
    with hub(["BUILDING", "APP_STARTING", "RUNNING"], seen) as http:
        wait_until_running(SPACE, http=http, token=None, poll_s=0.01,
                           on_wait=lambda stage, wait: stages.append(stage))
        with SpaceClient.connect(SPACE, http=http, token="hf_tok") as client:
            assert client.spec.host == HOST and client.spec.space_id == SPACE
            assert list(client.endpoints) == ["/predict"]
    assert stages == ["BUILDING", "APP_STARTING"]
    sent = {(r.url.host, r.headers.get("authorization")) for r in seen[3:]}
    assert sent == {("huggingface.co", "Bearer hf_tok"), (HOST, "Bearer hf_tok")}


def test_sleeping_space_is_woken() -> None:
    seen: list[httpx.Request] = []
    with hub(["SLEEPING", "RUNNING"], seen) as http:
        runtime = wait_until_running(SPACE, http=http, token=None, poll_s=0.01)
    assert runtime is not None and runtime.stage == "RUNNING"
    assert any(r.url.host == HOST and r.url.path == "/" for r in seen)


@pytest.mark.parametrize("stage", ["PAUSED", "RUNTIME_ERROR", "BUILD_ERROR"])
def test_broken_space_fails_fast(stage: str) -> None:
    seen: list[httpx.Request] = []
    with hub([stage], seen) as http, pytest.raises(SpaceUnavailableError) as info:
        SpaceClient.connect(SPACE, http=http, token="")
    assert stage in str(info.value) and len(seen) == 1


def test_unknown_hub_space() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "not found"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http, \
            pytest.raises(DiscoveryError) as info:
        SpaceClient.connect("nobody/nothing", http=http, token="")
    assert "no such Space" in str(info.value)


def test_sse_parser() -> None:
    lines = [": comment", "event: generating", "data: [1]", "", "event: heartbeat", "data: null",
             "", "data: {\"a\":", "data: 2}", "", "event: complete", "data: not json"]
    events = list(iter_events(lines))
    assert [(e.name, e.data) for e in events] == [
        ("generating", [1]), ("heartbeat", None), ("message", {"a": 2}),
        ("complete", "not json")]


def test_error_events_of_every_generation() -> None:
    quota = error_from_event(
        {"error": "You have exceeded your GPU quota (60s requested vs. 56s left). "
                  "<a href='x'>Sign up</a> &amp; retry in 0:09:48", "title": "Error"},
        space="s", endpoint="/e")
    assert isinstance(quota, QuotaError) and quota.retry_after_s == 588.0
    assert "<a" not in quota.message and "& retry" in quota.message
    assert isinstance(error_from_event(None, space="s", endpoint="/e"), AppError)  # 5.x
    assert isinstance(error_from_event({"error": None}, space="s", endpoint="/e"), AppError)
    no_gpu = error_from_event({"error": "No GPU was available after 60s"}, space="s",
                              endpoint="/e")
    assert isinstance(no_gpu, QuotaError) and no_gpu.retry_after_s is None
    assert parse_retry_in("retry in 12:34") == 754.0 and parse_retry_in("soon") is None


def test_concurrent_calls_on_one_client(tiny_space: Any, tmp_path: Path) -> None:
    with SpaceClient.connect(tiny_space.url, token="") as client, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(
            lambda i: client.call("/echo", {"text": str(i), "count": 2},
                                  out_dir=tmp_path / str(i)), range(8)))
    assert [r.outputs[0] for r in results] == [f"{i}{i}" for i in range(8)]
