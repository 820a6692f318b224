"""``spacesmith mcp --offline`` driven by the real ``mcp`` client SDK over stdio, as an MCP
client (Claude Code, Cursor, tiny-agents) starts it: a subprocess, with a token in its
environment that must never come back.

One server serves the module (its workspace and stand-ins persist across the tests, in
file order); the client records every result so the last test can look for the token in
all of them, in the server's log and in the workspace.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fixtures.fake_hub import WRITE_TOKEN, FakeHub
from tests.fixtures.verify import call_stats, journal, site_problems

mcp = pytest.importorskip("mcp")

# The fake Hub's write token doubles as the canary: deploy works with it, and it must
# appear in no result, no log line and no workspace file.
CANARY = WRITE_TOKEN
DEPLOY_SPACE = "tester/mcp-gallery"
SUBJECTS = ["Panthéon", "Arc de Triomphe"]
EXPECTED_TOOLS = {"generate_splats", "call_space", "discover_space", "inspect_splat",
                  "fix_splat", "read_gallery", "write_gallery", "build_site", "preview_site",
                  "deploy_site", "list_workspace"}


def spacesmith_command() -> str:
    found = Path(sys.executable).with_name("spacesmith")
    return str(found) if found.exists() else shutil.which("spacesmith") or "spacesmith"


def server_env(home: Path, hub: FakeHub | None) -> dict[str, str]:
    env = {"HF_TOKEN": CANARY, "HF_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False",
           "NO_PROXY": "127.0.0.1,localhost", "PATH": os.environ.get("PATH", "")}
    if hub is not None:
        env["HF_ENDPOINT"] = hub.url
    for name in ("SPACESMITH_CACHE", "HOME"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


@dataclass
class Client:
    """Sync calls into an MCP client session that lives in a portal's event loop."""

    portal: Any
    session: Any
    workspace: Path
    log: Path
    texts: list[str] = field(default_factory=list)

    def call(self, name: str, arguments: dict[str, Any] | None = None,
             progress: list[tuple[float, float | None, str | None]] | None = None) -> Any:
        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            self.texts.append(message or "")
            if progress is not None:
                progress.append((value, total, message))

        result = self.portal.call(self.session.call_tool, name, arguments or {}, 300.0,
                                  on_progress)
        self.texts.extend(getattr(c, "text", "") or getattr(c, "data", "")
                          for c in result.content)
        self.texts.append(json.dumps(result.structured_content))
        return result

    def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.call(name, arguments)
        assert not result.is_error, result.content[0].text
        data: dict[str, Any] = result.structured_content
        assert json.loads(result.content[0].text) == data
        return data


@asynccontextmanager
async def connect(params: Any, errlog: Any) -> AsyncIterator[Any]:
    from mcp import ClientSession, stdio_client

    async with stdio_client(params, errlog=errlog) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        yield session


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, hub: FakeHub) -> Iterator[Client]:
    from anyio.from_thread import start_blocking_portal
    from mcp import StdioServerParameters

    root = tmp_path_factory.mktemp("mcp")
    workspace = root / "workspace"
    params = StdioServerParameters(
        command=spacesmith_command(),
        args=["mcp", "--offline", "-o", str(workspace), "--deploy", DEPLOY_SPACE,
              "--num-gaussians", "32768"],
        env=server_env(root / "hf_home", hub), cwd=str(root))
    log = root / "server-stderr.log"
    with log.open("w") as errlog, start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(connect(params, errlog)) as session:
        yield Client(portal, session, workspace, log)


def test_lists_tools_with_valid_schemas(client: Client) -> None:
    from jsonschema import Draft202012Validator

    listed = client.portal.call(client.session.list_tools)
    names = {tool.name for tool in listed.tools}
    assert names == EXPECTED_TOOLS
    for tool in listed.tools:
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema.get("additionalProperties") is False
        assert 40 <= len(tool.description or "") <= 700, tool.name
        for name, prop in tool.input_schema["properties"].items():
            assert "type" in prop, f"{tool.name}.{name} has no type"


def test_chain_images_splats_fix_site(client: Client) -> None:
    progress: list[tuple[float, float | None, str | None]] = []
    result = client.call("generate_splats", {"subjects": SUBJECTS}, progress)
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    assert [item["name"] for item in data["items"]] == SUBJECTS
    assert data["cached"] is False and data["space_calls"]["made"] == 2 * len(SUBJECTS)
    for item in data["items"]:
        assert item["splat"].startswith("splats/web/") and item["splat"].endswith(".spz")
        assert (client.workspace / item["image"]).is_file()
        assert (client.workspace / item["raw_splat"]).is_file()
        assert not item["cached"]["image"] and not item["cached"]["splat"]
        assert item["fix_cached"] is False
    # the images come back as MCP image content a client can show
    pictures = [c for c in result.content if c.type == "image"]
    assert len(pictures) == len(SUBJECTS)
    with Image.open(io.BytesIO(base64.b64decode(pictures[0].data))) as picture:
        assert picture.format == "PNG" and picture.width > 16
    # progress: several notifications, strictly increasing, ending at the total (3 steps each)
    values = [p[0] for p in progress]
    assert len(values) >= 3 * len(SUBJECTS)
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[-1] == progress[-1][1] == 3 * len(SUBJECTS)

    raw = data["items"][0]["raw_splat"]
    inspected = client.ok("inspect_splat", {"path": raw})
    assert inspected["stats"]["count"] > 1000
    fixed = client.ok("fix_splat", {"path": raw, "output": "splats/extra/pantheon.ksplat",
                                    "prune_alpha": 0.05})
    assert fixed["path"] == "splats/extra/pantheon.ksplat" and fixed["count"] > 1000
    assert fixed["camera"]["position"] and fixed["height"] > 0.3

    gallery = {"title": "Monuments de Paris", "items": data["gallery_items"]}
    built = client.ok("build_site", {"gallery": gallery})
    assert built["items"] == SUBJECTS and built["index"] == "site/index.html"
    assert not built["used_cdn"]
    assert site_problems(client.workspace, items=len(SUBJECTS), max_count=33000) == []
    assert client.ok("read_gallery")["gallery"]["title"] == "Monuments de Paris"


def test_second_identical_call_comes_from_the_cache(client: Client) -> None:
    before = call_stats(journal(client.workspace))
    again = client.ok("generate_splats", {"subjects": SUBJECTS, "show_images": False})
    assert all(item["cached"] == {"image": True, "splat": True} for item in again["items"])
    assert again["cached"] is True
    assert again["space_calls"] == {"made": 0, "cached": 2 * len(SUBJECTS)}
    assert all(item["fix_cached"] for item in again["items"])  # the web splats were current
    after = call_stats(journal(client.workspace))
    assert after["finished"] == before["finished"]  # no Space call was made
    assert after["cached"] == before["cached"] + 2 * len(SUBJECTS)

    # call_space: the same, one call of the image role, then several at once
    prompt = {"prompt": "a lighthouse on a cliff"}
    first = client.ok("call_space", {"space": "image", "arguments": prompt})["results"][0]
    second = client.ok("call_space", {"space": "image", "arguments": prompt})["results"][0]
    assert not first["cached"] and second["cached"] and second["files"] == first["files"]
    assert client.ok("call_space", {"space": "image", "arguments": prompt})["cached"] is True
    many = client.ok("call_space", {"space": "image", "calls": [prompt, {"prompt": "a mill"}]})
    assert [r["cached"] for r in many["results"]] == [True, False]


def test_site_renders_in_chromium_and_reloads_after_a_rebuild(client: Client,
                                                              browser: Any) -> None:
    preview = client.ok("preview_site")
    assert preview["url"].startswith("http://127.0.0.1:")
    page = browser.new_page(viewport={"width": 640, "height": 400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    ready = "() => window.__gallery && window.__gallery.ready && !window.__before_rebuild"
    try:
        page.goto(preview["url"], wait_until="load")
        page.wait_for_function(ready, timeout=120_000)  # software WebGL on a loaded machine
        state = page.evaluate("() => ({...window.__gallery})")
        assert state["error"] is None and errors == []
        assert state["count"] == len(SUBJECTS) and state["title"] == SUBJECTS[0]

        page.evaluate("() => { window.__before_rebuild = true; }")
        gallery = client.ok("read_gallery")["gallery"]
        client.ok("build_site", {"gallery": {**gallery, "title": "Paris by night"}})
        # errors of the old page while it unloads (aborted fetches) are not the new page's
        errors.clear()
        page.wait_for_function(ready, timeout=120_000)  # a new page: the marker is gone
        assert "Paris by night" in page.title()
        assert page.evaluate("() => window.__gallery.error") is None
    finally:
        page.close()
    site_index = (client.workspace / "site" / "index.html").read_text("utf-8")
    assert "__spacesmith" not in site_index  # the reload script is the preview's, not the site's


def test_discover_space_by_role_and_policy(client: Client) -> None:
    found = client.ok("discover_space", {"space": "splat"})
    assert found["roles"].get("splat") and found["endpoints"]
    refused = client.call("discover_space", {"space": "https://evil.example.com/"})
    assert refused.is_error
    text = refused.content[0].text
    assert text.startswith("Error: ") and "\n" not in text and "Hub id" in text


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("generate_splats", {"subjects": "Louvre"}, "argument subjects"),
    ("generate_splats", {"subjects": []}, "argument subjects"),
    ("fix_splat", {"path": "splats/x.ply", "flipy": True}, "flipy"),
    ("inspect_splat", {"path": "../../../etc/passwd"}, "outside the workspace"),
    ("inspect_splat", {"path": "nothing/here.ply"}, "no splat file"),
    ("fix_splat", {"path": "gallery.json"}, "not a splat file"),
    ("fix_splat", {"path": "splats/web/pantheon.spz", "output": "../escape.spz"},
     "outside the workspace"),
    ("fix_splat", {"path": "splats/web/pantheon.spz", "output": "cache/x/files/a.ply"},
     "inside cache/"),
    ("generate_splats", {"subjects": ["Louvre", "louvre"]}, "share the file name"),
    ("generate_splats", {"subjects": ["Louvre"], "prompt_template": "a photo"}, "{subject}"),
    ("discover_space", {"space": "x" * 600}, "argument space"),
    ("call_space", {"space": "image", "endpoint": "/nope"}, "the image role is endpoint"),
    ("call_space", {"space": "splat", "arguments": {"image": "/etc/hostname"}},
     "outside the workspace"),
    ("write_gallery", {"gallery": {"title": "x", "items": [{"name": "a",
                                                             "splat": "missing.ply"}]}},
     "missing.ply"),
    ("deploy_site", {"space_id": "someone/else"}, "deploys only to"),
    ("no_such_tool", {}, "no tool"),
])
def test_bad_arguments_are_one_line_error_results(client: Client, tool: str,
                                                  arguments: dict[str, Any],
                                                  expected: str) -> None:
    result = client.call(tool, arguments)
    assert result.is_error
    (content,) = result.content
    assert content.text.startswith("Error: ") and "\n" not in content.text
    assert expected in content.text
    assert len(content.text) < 400


def test_deploy_goes_to_the_named_space_only(client: Client, hub: FakeHub) -> None:
    dry = client.ok("deploy_site", {"dry_run": True})
    assert dry["space"] == DEPLOY_SPACE and not dry["committed"] and dry["files"] > 3
    pushed = client.ok("deploy_site", {})
    assert pushed["committed"] and pushed["url"].endswith(f"/spaces/{DEPLOY_SPACE}")
    assert "index.html" in hub.repos[DEPLOY_SPACE].files


def test_a_cancelled_call_leaves_the_server_serving(client: Client) -> None:
    import anyio

    subjects = ["Louvre", "Opéra Garnier"]

    async def cancel_at_first_progress() -> bool:
        with anyio.CancelScope() as scope:
            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                scope.cancel()

            await client.session.call_tool("generate_splats", {"subjects": subjects}, 300.0,
                                           on_progress)
        return scope.cancelled_caught

    assert client.portal.call(cancel_at_first_progress)
    assert client.ok("list_workspace")["gallery"] is True
    again = client.ok("generate_splats", {"subjects": subjects[:1], "show_images": False})
    assert again["items"][0]["splat"] == "splats/web/louvre.spz"


def test_the_server_survives_and_the_token_appears_nowhere(client: Client) -> None:
    assert client.ok("list_workspace")["site"] is True
    assert not [t for t in client.texts if CANARY in t]
    assert CANARY not in client.log.read_text("utf-8", errors="replace")
    for path in client.workspace.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert CANARY.encode() not in path.read_bytes(), path


def test_stdout_carries_only_the_protocol(tmp_path: Path) -> None:
    """A raw client: every line the server writes to stdout is JSON-RPC, from startup
    (stand-ins, Gradio) to shutdown, and closing stdin ends it with exit code 0. Every
    stand-in call hangs here: the call ends at its deadline as a one-line error result."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": "discover_space", "arguments": {"space": "image"}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
         "params": {"name": "call_space",
                    "arguments": {"space": "image", "arguments": {"prompt": "a tower"}}}},
    ]
    env = server_env(tmp_path / "hf_home", None)
    env["SPACESMITH_FAULTS"] = "1:hang"
    process = subprocess.Popen(
        [spacesmith_command(), "mcp", "--offline", "-o", str(tmp_path / "ws"),
         "--call-timeout", "2", "--call-attempts", "1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env, cwd=tmp_path)
    lines: queue.Queue[bytes] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.put(raw)
        lines.put(b"")

    threading.Thread(target=read, daemon=True).start()
    parsed: list[dict[str, Any]] = []
    try:
        assert process.stdin is not None
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
        process.stdin.flush()
        while not {3, 4} <= {m.get("id") for m in parsed}:
            raw = lines.get(timeout=240)
            assert raw, "the server closed stdout before answering"
            parsed.append(json.loads(raw))  # raises on any stray line
        process.stdin.close()
        assert process.wait(timeout=60) == 0
        while (raw := lines.get(timeout=30)) != b"":
            parsed.append(json.loads(raw))
    finally:
        if process.poll() is None:
            process.kill()
    assert all(m.get("jsonrpc") == "2.0" for m in parsed)
    answers = {m["id"]: m for m in parsed if "id" in m}
    assert set(answers) == {1, 2, 3, 4}
    assert len(answers[2]["result"]["tools"]) == len(EXPECTED_TOOLS)
    assert not answers[3]["result"].get("isError"), answers[3]
    hung = answers[4]["result"]
    assert hung["isError"] and len(hung["content"]) == 1
    text = hung["content"][0]["text"]
    assert text.startswith("Error: ") and "\n" not in text and "no result within 2 s" in text
    assert not [m for m in parsed if CANARY in json.dumps(m)]

