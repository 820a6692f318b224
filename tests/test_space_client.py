"""The client against real Gradio servers on 127.0.0.1: calls, styles, errors, files, tokens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacesmith.tools.errors import (
    AppError,
    DiscoveryError,
    ForeignHostError,
    ParameterError,
    QuotaError,
    SchemaError,
    SpaceTimeoutError,
    TransientSpaceError,
)
from spacesmith.tools.spaces.client import CallResult, ProgressEvent, SpaceClient
from spacesmith.tools.spaces.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, base_s=0.05, max_s=0.2, seed=1)


def connect(url: str, **kwargs: Any) -> SpaceClient:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("token", "")
    return SpaceClient.connect(url, **kwargs)


def test_v2_call_on_the_image_standin(standins: Any, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    with connect(standins.image.agents_md_url, progress=events.append) as client:
        assert client.spec.call_style == "v2" and client.spec.source == "agents.md"
        result = client.call("generate", {"prompt": "Eiffel Tower", "width": 256,
                                          "height": 320}, out_dir=tmp_path)
    image, seed, caption = result.outputs
    assert Path(image) == result.files[0] and result.files[0].parent == tmp_path
    assert (seed, caption) == (42, "Eiffel Tower (tower, default)")
    from PIL import Image

    assert Image.open(result.files[0]).size == (256, 320)
    stages = [e.stage for e in events]  # the queue may report the call's place more than once
    assert [s for i, s in enumerate(stages) if not i or stages[i - 1] != s] == [
        "started", "queued", "running", "done"]
    assert result.attempts == 1
    text = repr(result)
    assert text.startswith("CallResult(space=") and "image.png" in text and "\n" not in text


def test_base_url_without_agents_md_uses_info_directly(serve: Any, tmp_path: Path) -> None:
    from tests.fixtures.spaces import _tiny_blocks

    server = serve(_tiny_blocks(), agents_md="")
    assert httpx.get(server.agents_md_url).status_code == 404
    with connect(server.url) as client:
        assert client.spec.source == "info"
        result = client.call("/echo", {"text": "ab", "count": 3}, out_dir=tmp_path)
    assert result.outputs == ["ababab", 3]


def old_style_routes(hits: list[str]) -> Any:
    """An older Gradio: the v2 route answers 405."""
    def routes(app: Any) -> None:
        from fastapi.responses import PlainTextResponse

        @app.post("/gradio_api/call/v2/{api_name}")
        def _v2(api_name: str) -> PlainTextResponse:
            hits.append(api_name)
            return PlainTextResponse("Method Not Allowed", status_code=405)
    return routes


def test_positional_fallback_after_405_fills_defaults(serve: Any, tmp_path: Path) -> None:
    from tests.fixtures.spaces import _tiny_blocks

    hits: list[str] = []
    server = serve(_tiny_blocks(), agents_md="", extra_routes=old_style_routes(hits))
    with connect(server.url) as client:
        first = client.call("/echo", {"text": "xy"}, out_dir=tmp_path)  # count, choice: defaults
        second = client.call("/echo", {"text": "z", "count": 1}, out_dir=tmp_path)
    assert first.outputs == ["xyxy", 2] and second.outputs == ["z", 1]
    assert hits == ["echo"]  # v2 tried once, then the client remembers


OLDER_AGENTS_MD = """To use this application (tests/old: an older Space):
API schema: GET {base}/gradio_api/info
Call endpoint: POST {base}/gradio_api/call/{endpoint} {"data": [...]}
Poll result: GET {base}/gradio_api/call/{endpoint}/{event_id}
"""


def test_older_agents_md_calls_positional_directly(serve: Any, tmp_path: Path) -> None:
    from tests.fixtures.spaces import _tiny_blocks

    hits: list[str] = []
    server = serve(_tiny_blocks(), agents_md=OLDER_AGENTS_MD,
                   extra_routes=old_style_routes(hits))
    with connect(server.agents_md_url) as client:
        assert client.spec.call_style == "positional"
        result = client.call("/echo", {"text": "q", "choice": "b"}, out_dir=tmp_path)
    assert result.outputs == ["qq", 2] and hits == []


def test_generator_endpoint_returns_the_last_output(tiny_space: Any, tmp_path: Path) -> None:
    events: list[str] = []
    with connect(tiny_space.url, progress=lambda e: events.append(e.stage)) as client:
        result = client.call("/stream", {"n": 3}, out_dir=tmp_path)
    assert result.outputs == ["step 3"]
    assert events.count("generating") >= 1 and events[-1] == "done"


def test_gr_error_is_an_app_error_with_the_message(tiny_space: Any, tmp_path: Path) -> None:
    with connect(tiny_space.url) as client, pytest.raises(AppError) as info:
        client.call("/fail_gr", {"text": "a cat"}, out_dir=tmp_path)
    assert "cannot draw a cat" in str(info.value) and "<b>" not in str(info.value)
    assert info.value.endpoint == "/fail_gr"


def test_plain_exception_is_an_app_error_without_detail(tiny_space: Any, tmp_path: Path) -> None:
    events: list[str] = []
    with connect(tiny_space.url, progress=lambda e: events.append(e.stage)) as client, \
            pytest.raises(AppError) as info:
        client.call("/fail_plain", {"text": "x"}, out_dir=tmp_path)
    assert "without a message" in str(info.value) and "secret" not in str(info.value)
    assert events[-1] == "failed"


def test_unknown_event_is_transient(tiny_space: Any) -> None:
    with connect(tiny_space.url) as client, pytest.raises(TransientSpaceError) as info:
        client.poll("/echo", "0" * 32)
    assert "does not know this event" in str(info.value)


@pytest.mark.parametrize("heartbeat_s", ["0.2", None])
def test_hang_ends_at_the_deadline(tiny_space: Any, tmp_path: Path, heartbeat_s: str | None,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Heartbeats only (every 0.2 s), or silence (15 s default): the deadline holds. The call
    would succeed after 3 s; it ends with the deadline's error instead (no timed assertion:
    the error says which rule ended it)."""
    if heartbeat_s is not None:
        monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", heartbeat_s)  # gradio reads it per stream
    with connect(tiny_space.url) as client, pytest.raises(SpaceTimeoutError) as info:
        client.call("/sleep", {"seconds": 3}, out_dir=tmp_path, timeout=1.0)
    assert "no result within 1 s" in str(info.value)


def test_quota_error_is_parsed_and_not_retried_past_the_deadline(tiny_space: Any,
                                                                 tmp_path: Path) -> None:
    with connect(tiny_space.url) as client, pytest.raises(QuotaError) as info:
        client.call("/quota", {"text": "x"}, out_dir=tmp_path, timeout=0.8)
    assert info.value.retry_after_s == 1.0
    assert "retry in 0:00:01" in str(info.value) and "<a" not in str(info.value)


def test_binary_upload_and_download_are_bit_exact(tiny_space: Any, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 4096 + os.urandom(1000)
    source = tmp_path / "in" / "blob.bin"
    source.parent.mkdir()
    source.write_bytes(payload)
    with connect(tiny_space.url) as client:
        result = client.call("/file_echo", {"path": source}, out_dir=tmp_path / "out")
        again = client.call("/file_echo", {"path": str(source)}, out_dir=tmp_path / "out")
    assert result.files[0].read_bytes() == payload
    assert result.files[0].name == "blob.bin" and again.files[0].name == "blob-2.bin"
    assert not list((tmp_path / "out").glob(".*part"))


def test_gr_update_is_unwrapped(tiny_space: Any, tmp_path: Path) -> None:
    source = tmp_path / "model.ply"
    source.write_bytes(b"ply\n" + os.urandom(5000))
    with connect(tiny_space.url) as client:
        result = client.call("/file_update", {"path": source}, out_dir=tmp_path / "o")
    assert result.outputs == [str(result.files[0])]
    assert result.files[0].read_bytes() == source.read_bytes()


def test_size_cap(tiny_space: Any, tmp_path: Path) -> None:
    from spacesmith.tools.errors import DownloadError

    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(10_000))
    with connect(tiny_space.url, max_download_bytes=4096) as client, \
            pytest.raises(DownloadError) as info:
        client.call("/file_echo", {"path": source}, out_dir=tmp_path / "o")
    assert "4,096-byte cap" in str(info.value)
    assert not list((tmp_path / "o").iterdir())


def test_validation_happens_before_any_call(tiny_space: Any, tmp_path: Path) -> None:
    with connect(tiny_space.url) as client:
        before = len(tiny_space.seen.requests)
        with pytest.raises(ParameterError) as info:
            client.call("/echo", {"text": "a", "choice": "c"}, out_dir=tmp_path)
        assert "one of 'a', 'b'" in str(info.value)
        with pytest.raises(ParameterError) as missing:
            client.call("/nope", {}, out_dir=tmp_path)
        assert "it has /echo" in str(missing.value).replace("'", "")
        with pytest.raises(ParameterError):
            client.call("/file_echo", {"path": tmp_path / "missing.bin"}, out_dir=tmp_path)
        assert len(tiny_space.seen.requests) == before


def test_token_goes_to_the_space_only(tiny_space: Any, recorder: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    source = tmp_path / "f.bin"
    source.write_bytes(b"abc")
    start = len(tiny_space.seen.requests)
    with SpaceClient.connect(tiny_space.url, retry=FAST) as client:
        assert "hf_secret" not in repr(client)
        client.call("/file_echo", {"path": source}, out_dir=tmp_path / "o")
    seen = tiny_space.seen.requests[start:]
    paths = {p.split("=")[0] for _, p, _ in seen}
    assert {"/gradio_api/upload", "/gradio_api/call/v2/file_echo", "/gradio_api/file"} <= paths
    assert {a for _, _, a in seen} == {"Bearer hf_secret_token"}


def test_hostile_agents_md_never_sees_the_token(serve: Any, recorder: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.spaces import _tiny_blocks

    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    # 1. the Space's agents.md names the recorder's host
    hostile = (f"API schema: GET {recorder.url}/gradio_api/info\n"
               f"Call endpoint: POST {recorder.url}/gradio_api/call/v2/{{endpoint}} {{}}\n")
    server = serve(_tiny_blocks(), agents_md=hostile)
    with pytest.raises(ForeignHostError) as info:
        SpaceClient.connect(server.url, retry=FAST)
    assert recorder.url.split("//")[1] in str(info.value)
    assert recorder.seen.requests == []

    # 2. the Space redirects its agents.md to the recorder: followed without the token
    def redirect(app: Any) -> None:
        from fastapi.responses import RedirectResponse

        @app.get("/agents.md")
        def _moved() -> RedirectResponse:
            return RedirectResponse(f"{recorder.url}/agents.md", status_code=307)

    moved = serve(_tiny_blocks(), agents_md="", extra_routes=redirect)
    with pytest.raises(ForeignHostError):
        SpaceClient.connect(moved.url, retry=FAST)
    assert [(m, p) for m, p, _ in recorder.seen.requests] == [("GET", "/agents.md")]
    assert recorder.seen.auth_for("/") == [None]


def test_malformed_info_is_a_one_line_error(serve: Any) -> None:
    from tests.fixtures.spaces import _tiny_blocks

    def bad_info(app: Any) -> None:
        @app.get("/gradio_api/info")
        def _info() -> dict[str, Any]:
            return {"named_endpoints": {"/x": {"parameters": "nope"}}}

    server = serve(_tiny_blocks(), extra_routes=bad_info)
    with pytest.raises(SchemaError) as info:
        SpaceClient.connect(server.url, retry=FAST)
    assert "\n" not in str(info.value) and "'/x'" in str(info.value)


def test_nothing_there_is_a_discovery_error(recorder: Any) -> None:
    with pytest.raises(DiscoveryError) as info:
        SpaceClient.connect("http://127.0.0.1:9/", retry=FAST)
    assert "cannot fetch" in str(info.value)


def test_call_result_json_shape() -> None:
    result = CallResult("s", "/e", ["a", 1], [Path("/tmp/a.png")], 1.23456, 2)
    assert result.to_json() == {"outputs": ["a", 1], "files": ["/tmp/a.png"],
                                "elapsed_s": 1.235, "attempts": 2}


def test_download_redirected_off_host_loses_the_token(serve: Any, recorder: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.spaces import _tiny_blocks

    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")

    def redirect_files(app: Any) -> None:
        from fastapi.responses import RedirectResponse

        @app.get("/gradio_api/file={path:path}")
        def _file(path: str) -> RedirectResponse:
            return RedirectResponse(f"{recorder.url}/cdn/file", status_code=302)

    server = serve(_tiny_blocks(), extra_routes=redirect_files)
    source = tmp_path / "a.txt"
    source.write_text("hello")
    with SpaceClient.connect(server.url, retry=FAST) as client:
        result = client.call("/file_echo", {"path": source}, out_dir=tmp_path / "o")
    assert result.files[0].read_bytes().startswith(b"API schema:")  # the recorder's answer
    assert recorder.seen.requests == [("GET", "/cdn/file", None)]
