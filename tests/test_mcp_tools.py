"""The MCP server's parts in process: the Space policy, progress, cancellation.

The protocol end to end is in ``tests/test_mcp_server.py``; these pin down what is hard to
reach through a subprocess: that a cancelled call stops before its next Space call, and
which Spaces a tool call may reach.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from spacesmith.agent.mcp.progress import Call, CancelledByClient, bound, current
from spacesmith.agent.mcp.spaces import SpaceTools, space_allowed
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import AgentError, DiscoveryError, ForeignHostError
from spacesmith.tools.standins import Standins
from tests.fixtures.verify import journal

NAMED = ["http://127.0.0.1:7861", "https://example.org/spaces/mine"]


@pytest.mark.parametrize(("space", "allowed"), [
    ("VAST-AI/TripoSplat", True),
    ("https://huggingface.co/spaces/VAST-AI/TripoSplat", True),
    ("https://vast-ai-triposplat.hf.space", True),
    ("https://vast-ai-triposplat.hf.space/agents.md", True),
    ("http://vast-ai-triposplat.hf.space", False),       # plain http: not an HF host
    ("https://evil.hf.space.example.com/", False),
    ("https://hf.space.evil.com", False),
    ("http://127.0.0.1:7861", True),                     # named
    ("http://127.0.0.1:7861/agents.md", True),           # the named Space's origin
    ("http://127.0.0.1:7862", False),                    # another port
    ("http://localhost:7861", False),
    ("https://example.org/other", True),                 # same origin as a named Space
    ("https://attacker.example/", False),
    ("http://127.0.0.1:7861@attacker.example/", False),  # userinfo trick
    ("attacker.example/x", True),   # a Hub id: reached only as attacker-example-x.hf.space
])
def test_space_policy(space: str, allowed: bool) -> None:
    assert space_allowed(space, NAMED) is allowed


def test_space_policy_refuses_junk_with_one_line() -> None:
    with pytest.raises(DiscoveryError) as info:
        space_allowed("file:///etc/passwd", NAMED)
    assert "\n" not in str(info.value)


def test_progress_strictly_increases_across_threads() -> None:
    sent: list[float] = []
    call = Call(lambda value, total, message: sent.append(value), total=40.0)

    def work() -> None:
        for _ in range(10):
            call.note("working")
            call.advance("one done")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sent and all(b > a for a, b in itertools.pairwise(sent))
    assert sent[-1] == 40.0


def test_a_thread_is_bound_to_its_call() -> None:
    call = Call()
    assert current() is None
    with bound(call):
        assert current() is call
    assert current() is None
    call.cancelled.set()
    with pytest.raises(CancelledByClient):
        call.check()


def test_cancel_stops_the_chain_before_its_next_space_call(tmp_path: Path,
                                                            agent_spaces: Standins) -> None:
    workspace = Workspace(tmp_path / "ws")
    urls = [agent_spaces.image_url, agent_spaces.splat_url]
    tools = SpaceTools(workspace, token=None, named=urls,
                       roles={"image": urls[0], "splat": urls[1]}, max_calls=20,
                       max_workers=1, timeout=60.0, call_attempts=1, num_gaussians="4096")
    call: Call = Call(lambda value, total, message: call.cancelled.set())  # client cancels
    try:
        with pytest.raises(AgentError):
            tools.chain(call, ["Louvre", "Panthéon", "Opéra"], prompt_template=None, fix=True)
    finally:
        tools.close()
    events = journal(workspace.root)
    assert not [e for e in events if e.get("kind") == "call"]  # nothing was made or stored
    starts = [e for e in events if e.get("kind") == "call_start"]
    assert len(starts) <= 1 and all(e["tool"] == "mcp:chain-image" for e in starts)


def test_a_space_outside_the_policy_is_refused_before_any_request(tmp_path: Path) -> None:
    seen: list[str] = []

    def connector(space: str, **kwargs: object) -> object:
        seen.append(space)
        raise AssertionError("must not connect")

    tools = SpaceTools(Workspace(tmp_path / "ws"), token="hf_secret_canary", named=[],
                       roles={"image": "a/b", "splat": "c/d"}, max_calls=1, max_workers=1,
                       timeout=5.0, call_attempts=1, num_gaussians="4096",
                       connector=connector)
    with pytest.raises(ForeignHostError) as info:
        tools.discover("https://collector.example/agents.md")
    assert seen == [] and "hf_secret_canary" not in str(info.value)


@pytest.mark.parametrize(("argv", "expected", "code"), [
    (["-o", "/dev/null/ws"], "cannot use /dev/null/ws as the workspace", 1),
    (["--deploy", "not a space"], "invalid Space id", 1),
    (["--call-timeout", "0"], "must be positive", 2),
])
def test_a_bad_command_line_is_one_line_and_nothing_on_stdout(argv: list[str], expected: str,
                                                              code: int) -> None:
    command = Path(sys.executable).with_name("spacesmith")
    done = subprocess.run([str(command), "mcp", *argv], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == code
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0]


class _BarrierSpace:
    """A Space whose calls all wait at one barrier: they finish only if they run at once."""

    def __init__(self, space: str, parties: int) -> None:
        from spacesmith.tools.spaces.schema import Endpoint, Parameter, Return

        self.spec = SimpleNamespace(space=space, space_id="tester/echo", title="", host="")
        text = Parameter("text", "Text", "string", "str", "textbox", True)
        self.endpoints = {"/echo": Endpoint("/echo", "echo", (text,),
                                            (Return("out", "string", "str", "file", True),))}
        self.barrier = threading.Barrier(parties, timeout=20)

    def call(self, endpoint: str, arguments: dict[str, object], *, out_dir: Path,
             timeout: float | None = None, **watch: object) -> object:
        from spacesmith.tools.spaces.client import CallResult

        self.barrier.wait()  # BrokenBarrierError if the calls ran one after the other
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "echo.txt"
        path.write_text(str(arguments["text"]), "utf-8")
        return CallResult(self.spec.space, endpoint, [str(path)], [path], 0.01, 1)

    def close(self) -> None:
        pass


def test_several_calls_run_at_once_and_each_is_cached(tmp_path: Path) -> None:
    space = _BarrierSpace("tester/echo", parties=3)
    tools = SpaceTools(Workspace(tmp_path / "ws"), token=None, named=[],
                       roles={"image": "a/b", "splat": "c/d"}, max_calls=10, max_workers=3,
                       timeout=30.0, call_attempts=1, num_gaussians="4096",
                       connector=lambda name, **kwargs: space)
    calls = [{"text": word} for word in ("one", "two", "three")]
    try:
        first = tools.call(Call(), "tester/echo", "/echo", calls)
        again = tools.call(Call(), "tester/echo", "echo", calls)  # no barrier: all cached
    finally:
        tools.close()
    assert [r["cached"] for r in first] == [False] * 3
    assert [r["cached"] for r in again] == [True] * 3
    assert [r["files"] for r in again] == [r["files"] for r in first]
    texts = [(tmp_path / "ws" / r["files"][0]).read_text("utf-8") for r in first]
    assert texts == ["one", "two", "three"]
