"""agents.md parsing (both generations), SPACE resolution and the token rule: no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacesmith.tools.errors import AgentsMdError, DiscoveryError, ForeignHostError
from spacesmith.tools.hub.auth import auth_headers, get_token, may_send_token
from spacesmith.tools.spaces.agents_md import parse_agents_md, spec_from_root
from spacesmith.tools.spaces.discovery import resolve, space_host

NEWER = """\
To use this application (microsoft/TRELLIS.2: Create 3D model from a single image):
API schema: GET https://microsoft-trellis-2.hf.space/gradio_api/info
Call endpoint: POST https://microsoft-trellis-2.hf.space/gradio_api/call/v2/{endpoint} {"param_name": value, ...}
Poll result: GET https://microsoft-trellis-2.hf.space/gradio_api/call/{endpoint}/{event_id}
File inputs: POST https://microsoft-trellis-2.hf.space/gradio_api/upload -F "files=@file.ext", use as: {"path": "<returned-path>", "meta": {"_type": "gradio.FileData"}, "orig_name": "file.ext"}
Auth: Bearer $HF_TOKEN (https://huggingface.co/settings/tokens)
"""  # noqa: E501

OLDER = """
# Some heading the Hub may add

To use this application  (owner/app:   an older Space) :

  api schema :   GET   https://owner-app.hf.space/gradio_api/info
  Call endpoint: POST https://owner-app.hf.space/gradio_api/call/{endpoint} {"data": [...]}
  Poll result: GET https://owner-app.hf.space/gradio_api/call/{endpoint}/{event_id}
  Some future line: whatever
"""
HOST = "microsoft-trellis-2.hf.space"


def test_newer_generation_gives_v2_spec() -> None:
    spec = parse_agents_md(NEWER, space="microsoft/TRELLIS.2", expected_host=HOST,
                           space_id="microsoft/TRELLIS.2")
    assert spec.call_style == "v2"
    assert spec.schema_url == f"https://{HOST}/gradio_api/info"
    assert spec.call_url_for("generate") == f"https://{HOST}/gradio_api/call/v2/generate"
    assert spec.call_url_for("generate", "positional") == f"https://{HOST}/gradio_api/call/generate"
    assert spec.poll_url_for("generate", "abc") == f"https://{HOST}/gradio_api/call/generate/abc"
    assert spec.upload_url == f"https://{HOST}/gradio_api/upload"
    assert spec.file_url("/tmp/x.png") == f"https://{HOST}/gradio_api/file=/tmp/x.png"
    assert spec.title == "microsoft/TRELLIS.2: Create 3D model from a single image"
    assert spec.root == f"https://{HOST}"


def test_older_generation_with_odd_spacing_gives_positional_spec() -> None:
    spec = parse_agents_md(OLDER, space="owner/app", expected_host="owner-app.hf.space")
    assert spec.call_style == "positional"
    assert spec.call_url_for("predict") == "https://owner-app.hf.space/gradio_api/call/predict"
    assert spec.upload_url == "https://owner-app.hf.space/gradio_api/upload"  # derived
    assert spec.title == "owner/app: an older Space"


def test_url_on_another_host_is_refused() -> None:
    hostile = NEWER.replace(f"https://{HOST}/gradio_api/upload", "https://evil.example/upload")
    with pytest.raises(ForeignHostError) as info:
        parse_agents_md(hostile, space="microsoft/TRELLIS.2", expected_host=HOST)
    assert "evil.example" in str(info.value) and "\n" not in str(info.value)


def test_other_port_on_the_same_address_is_a_foreign_host() -> None:
    text = NEWER.replace(HOST, "127.0.0.1:9000")
    with pytest.raises(ForeignHostError):
        parse_agents_md(text, space="local", expected_host="127.0.0.1:9001")


@pytest.mark.parametrize("text, needle", [
    ("", "API schema"),
    ("<!doctype html><html><body>Not found</body></html>", "API schema"),
    ("API schema: GET https://a-b.hf.space/gradio_api/info\n", "Call endpoint"),
    ("API schema: nothing here\nCall endpoint: POST x", "URL"),
    ("API schema: GET https://a-b.hf.space/other\nCall endpoint: POST "
     "https://a-b.hf.space/gradio_api/call/{endpoint}", "/gradio_api/info"),
    ("API schema: GET https://a-b.hf.space/gradio_api/info\nCall endpoint: POST "
     "https://a-b.hf.space/gradio_api/call/predict", "placeholder"),
])
def test_malformed_agents_md_is_a_one_line_error(text: str, needle: str) -> None:
    with pytest.raises(AgentsMdError) as info:
        parse_agents_md(text, space="a/b", expected_host="a-b.hf.space")
    message = str(info.value)
    assert needle in message and "\n" not in message and "Space 'a/b'" in message


def test_space_host_rule() -> None:
    assert space_host("microsoft/TRELLIS.2") == "microsoft-trellis-2.hf.space"
    assert space_host("VAST-AI/TripoSplat") == "vast-ai-triposplat.hf.space"


def test_resolve_forms() -> None:
    hub = resolve("VAST-AI/TripoSplat")
    assert hub.space_id == "VAST-AI/TripoSplat"
    assert hub.agents_md_url == "https://huggingface.co/spaces/VAST-AI/TripoSplat/agents.md"
    assert hub.host == "vast-ai-triposplat.hf.space"
    page = resolve("https://huggingface.co/spaces/VAST-AI/TripoSplat")
    assert page.space_id == "VAST-AI/TripoSplat"
    direct = resolve("http://127.0.0.1:7861/agents.md")
    assert (direct.host, direct.root, direct.space_id) == ("127.0.0.1:7861",
                                                           "http://127.0.0.1:7861", None)
    base = resolve("http://127.0.0.1:7861/")
    assert base.agents_md_url == "http://127.0.0.1:7861/agents.md"
    with pytest.raises(DiscoveryError):
        resolve("not a space")


def test_hub_endpoint_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:5555")
    assert resolve("a/b").agents_md_url == "http://127.0.0.1:5555/spaces/a/b/agents.md"


def test_spec_from_root_defaults_to_v2() -> None:
    spec = spec_from_root("http://127.0.0.1:7000", "http://127.0.0.1:7000/")
    assert (spec.call_style, spec.source, spec.host) == ("v2", "info", "127.0.0.1:7000")


@pytest.mark.parametrize("url, allowed", [
    ("http://127.0.0.1:7861/gradio_api/call/v2/x", True),
    ("http://127.0.0.1:7862/gradio_api/info", False),
    ("https://huggingface.co/api/spaces/a/b/runtime", True),
    ("https://other-space.hf.space/x", True),
    ("http://other-space.hf.space/x", False),
    ("https://hf.space.evil.com/x", False),
    ("https://evil.com/huggingface.co", False),
    ("https://user:pw@huggingface.co/x", False),
])
def test_token_rule(url: str, allowed: bool) -> None:
    assert may_send_token(url, "127.0.0.1:7861") is allowed
    assert bool(auth_headers(url, "hf_secret", "127.0.0.1:7861")) is allowed


def test_token_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert get_token() is None  # conftest isolates HF_HOME and unsets HF_TOKEN
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "token"))
    (tmp_path / "token").write_text("hf_saved\n")
    assert get_token() == "hf_saved"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert get_token() == "hf_env"
