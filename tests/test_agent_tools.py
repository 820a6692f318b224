"""The harness's tools and seams: every tool instantiates, the workspace confines writes,
look_at keeps only fresh images, the executor refuses os, models are chosen as documented."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from smolagents.memory import ActionStep
from smolagents.monitoring import Timing

from spacesmith.agent.calls.session import SpaceResult
from spacesmith.agent.codeagent import local_tools as lt
from spacesmith.agent.codeagent.harness import AUTHORIZED_IMPORTS, Harness
from spacesmith.agent.codeagent.models import DEFAULT_MODEL_ID, choose_model
from spacesmith.agent.codeagent.prompting import render
from spacesmith.agent.codeagent.space_tools import tool_name
from spacesmith.agent.runs.settings import Settings
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import AgentError, WorkspaceError

MAX_SYSTEM_PROMPT_CHARS = 8_500


def test_every_tool_matches_its_inputs(offline_settings: Settings,
                                       open_agent: Callable[..., Harness]) -> None:
    harness = open_agent(offline_settings)
    for name, tool in harness.agent.tools.items():
        if name == "final_answer":
            continue
        params = set(inspect.signature(tool.forward).parameters) - {"kwargs"}
        if params:  # Space tools take **kwargs, checked against /info by the client
            assert params == set(tool.inputs), name
        assert tool.description and len(tool.description) < 400, name
    assert {"call_many", "discover_space", "fix_splat", "build_site", "look_at",
            "image_standin_generate", "splat_standin_generate"} <= set(harness.agent.tools)
    assert harness.roles["splat"].defaults == {"num_gaussians": "32768", "output_format": "ply"}


def test_system_prompt_is_lean(offline_settings: Settings,
                               open_agent: Callable[..., Harness]) -> None:
    harness = open_agent(offline_settings)
    assert harness.system_prompt_chars < MAX_SYSTEM_PROMPT_CHARS
    assert "Y-down" in harness.agent.system_prompt


def test_executor_refuses_os_and_keeps_no_token(offline_settings: Settings,
                                                open_agent: Callable[..., Harness]) -> None:
    assert not {"os", "sys", "subprocess", "pathlib", "shutil", "io"} & set(AUTHORIZED_IMPORTS)
    harness = open_agent(offline_settings.with_(token="hf_notarealtoken123"))
    executor = harness.agent.python_executor
    executor.send_tools(harness.agent.tools)
    with pytest.raises(Exception, match="Import of os is not allowed"):
        executor("import os")
    assert executor.timeout_seconds is None
    assert "hf_notarealtoken123" not in repr(executor.state)


def test_discover_space_adds_tools_mid_run(offline_settings: Settings,
                                           open_agent: Callable[..., Harness],
                                           agent_spaces: object) -> None:
    harness = open_agent(offline_settings)
    del harness.agent.tools["image_standin_generate"]
    text = harness.agent.tools["discover_space"].forward(offline_settings.image_space)
    assert "image_standin_generate(prompt" in text
    assert "image_standin_generate" in harness.agent.tools
    assert "image_standin_generate" in harness.agent.python_executor.static_tools


def test_workspace_confines_paths_and_writes_atomically(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    tool = lt.WriteFileTool(ws)
    assert tool.forward("notes/a.txt", "hello").startswith("wrote notes/a.txt")
    assert (ws.root / "notes" / "a.txt").read_text() == "hello"
    for bad in ("../escape.txt", "/etc/passwd", str(tmp_path / "elsewhere.txt")):
        with pytest.raises(WorkspaceError):
            tool.forward(bad, "x")
    (ws.root / "link").symlink_to(tmp_path)
    with pytest.raises(WorkspaceError):
        tool.forward("link/escape.txt", "x")
    assert not list(ws.root.rglob(".a.txt.*")), "no temporary files left behind"
    with pytest.raises(WorkspaceError):
        lt.FixSplatTool(ws).forward("../x.ply", "x")


def test_look_at_attaches_to_the_next_step_and_drops_old_images(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    Image.new("RGB", (2000, 1000), "red").save(ws.root / "a.png")
    pending: list[object] = []
    look = lt.LookAtTool(ws, pending)
    callback = lt.attach_images(pending)

    class Memory:
        def __init__(self) -> None:
            self.steps: list[ActionStep] = []

    class Agent:
        memory = Memory()

    old = ActionStep(step_number=1, timing=Timing(0.0), observations_images=["old"])
    new = ActionStep(step_number=2, timing=Timing(0.0))
    Agent.memory.steps = [old, new]
    assert "will be shown" in look.forward("a.png")
    callback(new, agent=Agent())
    assert old.observations_images is None
    assert new.observations_images is not None and new.observations_images[0].size == (768, 384)
    assert pending == []


def test_space_result_prints_its_files() -> None:
    result = SpaceResult("splat_generate", ("cache/k/files/view.webp", "cache/k/files/s.ply"),
                         ("Done",), False, 1.234, 2)
    assert result.image == "cache/k/files/view.webp" and result.splat == "cache/k/files/s.ply"
    assert "s.ply" in repr(result) and "2 attempt(s)" in repr(result) and "Done" in str(result)


def test_tool_names_come_from_space_and_endpoint() -> None:
    assert tool_name("VAST-AI/TripoSplat", "/generate") == "triposplat_generate"
    assert tool_name("spacesmith/image-standin", "/generate") == "image_standin_generate"
    assert tool_name("microsoft/TRELLIS.2", "/image_to_3d") == "trellis_2_image_to_3d"
    assert tool_name("x/3d", "/run").isidentifier()


def test_instructions_render_strictly() -> None:
    with pytest.raises(AgentError, match="undefined"):
        render("instructions", image_tool="a")


def test_model_choice(tmp_path: Path) -> None:
    base = Settings(goal="g", output=tmp_path)
    offline = choose_model(base)
    assert type(offline.model).__name__ == "OfflinePlanner"
    assert "no HF token and no --model" in offline.label
    assert choose_model(base.with_(model="offline")).label == "offline planner, no LLM"
    hf = choose_model(base.with_(token="hf_x"))
    assert type(hf.model).__name__ == "ChatModel"  # Inference Providers: the HF router
    assert hf.model.server == "https://router.huggingface.co/v1"
    assert hf.model.model_id == DEFAULT_MODEL_ID
    oai = choose_model(base.with_(model="qwen2.5-coder", api_base="http://127.0.0.1:9/v1"))
    assert type(oai.model).__name__ == "ChatModel" and oai.model.server == "http://127.0.0.1:9/v1"
    assert "127.0.0.1:9" in oai.label and type(oai.model).__name__ != "OfflinePlanner"
    assert "hf_x" not in repr(base.with_(token="hf_x"))


def test_standins_start_when_no_space_is_named_and_the_hub_is_down(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spacesmith.agent.runs.runner import spaces_for

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    base = Settings(goal="g", output=tmp_path)
    with spaces_for(base) as (settings, line):
        assert settings.image_space and settings.image_space.startswith("http://127.0.0.1:")
        assert "stand-in" in line and "not reachable" in line
    named = base.with_(image_space="a/b", splat_space="c/d")
    with spaces_for(named) as (settings, line):
        assert (settings.image_space, settings.splat_space) == ("a/b", "c/d")


def test_a_failing_model_is_an_agent_error(offline_settings: Settings,
                                           open_agent: Callable[..., Harness]) -> None:
    from smolagents.models import Model

    class Broken(Model):  # type: ignore[misc]
        def generate(self, *args: object, **kwargs: object) -> object:
            raise ConnectionError("no route to the model server")

    from spacesmith.agent.codeagent.harness import build_harness

    harness = build_harness(offline_settings, model=Broken(model_id="broken"))
    try:
        with pytest.raises(AgentError, match="no route to the model server"):
            harness.run("build it")
    finally:
        harness.close()
