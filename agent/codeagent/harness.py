"""Build and run the CodeAgent: model, discovered Space tools, local tools, executor limits.

The same harness serves an LLM and the offline planner: the planner is only a ``Model``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smolagents import CodeAgent, Tool
from smolagents.models import Model

from spacesmith.agent.calls.pool import RolePool
from spacesmith.agent.calls.port import Connector
from spacesmith.agent.calls.roles import match_role
from spacesmith.agent.calls.session import SpaceSession
from spacesmith.agent.codeagent import local_tools as lt
from spacesmith.agent.codeagent.prompting import render
from spacesmith.agent.codeagent.space_tools import (
    CallManyTool,
    ChainTool,
    DiscoverSpaceTool,
    RoleBinding,
    SpaceEndpointTool,
    endpoint_tools,
)
from spacesmith.agent.executor.sandbox import SandboxedCodeAgent
from spacesmith.agent.runs.report import RunOutcome, RunRecord, write_report
from spacesmith.agent.runs.settings import Settings
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import AgentError
from spacesmith.tools.spaces.stall import StallPolicy

# Glue only. Never os, sys, subprocess, pathlib, shutil, io: files go through write_file.
# Nor numpy or plyfile: np.fromfile/np.save/memmap/DataSource and PlyData.write read and
# write any file. The executor itself is narrowed further in agent/executor/sandbox.py.
AUTHORIZED_IMPORTS = ("math", "json", "statistics", "unicodedata")

Deployer = Callable[[Path, str], str]


@dataclass
class Harness:
    """A ready agent with its Space session and workspace. Close it when done."""

    agent: CodeAgent
    session: SpaceSession
    workspace: Workspace
    settings: Settings
    model_label: str
    roles: dict[str, RoleBinding]
    status: lt.GoalStatus
    deployed_url: str | None = None

    @property
    def system_prompt_chars(self) -> int:
        return len(self.agent.system_prompt)

    def task_for(self, goal: str) -> str:
        """The task text for a goal: the goal, the user's subjects and the deploy target."""
        lines = [goal.strip()]
        if self.settings.subjects:
            lines.append("Subjects: " + "; ".join(self.settings.subjects))
        if self.settings.deploy_space and "deploy" not in goal.lower():
            lines.append(f"Deploy it to {self.settings.deploy_space} when the site is built.")
        return "\n".join(lines)

    def run(self, task: str, *, reset: bool = True, max_steps: int | None = None) -> RunOutcome:
        """Run the agent on ``task`` (``reset=False`` keeps the conversation) and report.

        Returns:
            The outcome; ``success`` means a final answer that is not a give-up, with a
            built site.
        """
        from smolagents.utils import AgentGenerationError

        start = time.monotonic()
        first_step = 0 if reset else len(self.agent.memory.steps)
        self.status.gave_up = None  # each run (each chat turn) says for itself
        try:
            result = self.agent.run(task, reset=reset,
                                    max_steps=max_steps or self.settings.max_steps,
                                    return_full_result=True)
        except AgentGenerationError as exc:
            raise AgentError(f"the model {self.model_label} failed: {_first_line(exc)}",
                             hint="check --model, --api-base and the token, or use "
                                  "--model offline") from exc
        output = str(result.output)
        built = (self.workspace.site_dir / "index.html").is_file()
        site = self.workspace.site_dir if built else None
        success = result.state == "success" and self.status.gave_up is None and site is not None
        outcome = RunOutcome(output, str(result.state), success,
                             len(self.agent.memory.steps) - first_step,
                             time.monotonic() - start, site, self.deployed_url)
        calls = self.session.journal.read(run_id=self.session.run_id)
        write_report(RunRecord(task, outcome, list(self.agent.memory.steps), calls,
                               self.workspace, self.model_label, self.system_prompt_chars,
                               first_step), token=self.settings.token)
        return outcome

    def close(self) -> None:
        """Close the Space clients and the executor."""
        self.session.close()
        self.agent.cleanup()


def build_harness(
    settings: Settings,
    *,
    model: Model,
    model_label: str = "",
    progress: Callable[[Any], None] | None = None,
    step_callbacks: Sequence[Callable[..., None]] = (),
    connector: Connector | None = None,
    deployer: Deployer | None = None,
    npm: str | None = "npm",
    max_workers: int = 6,
    verbosity_level: int = 0,
) -> Harness:
    """Connect to the image and splat Spaces and build the CodeAgent.

    Args:
        settings: the run settings; ``image_space`` and ``splat_space`` must be set.
        model: the model (an LLM or the offline planner).
        model_label: how to name the model in reports.
        progress: receives Space progress events.
        step_callbacks: called after each step (e.g. the chat's live display).
        connector: ``SpaceClient.connect`` or a compatible callable (tests).
        deployer: pushes a folder to a Space and returns its URL; default:
            ``spacesmith.tools.hub.deploy``.
        npm: the npm executable for the site build (None: never run npm).
        max_workers: concurrency of ``call_many``.
        verbosity_level: smolagents' console logging (0 is quiet).

    Returns:
        The harness.

    Raises:
        AgentError: a Space is missing or offers no endpoint for its role.
        SpaceError: discovery failed.
    """
    if not settings.image_space or not settings.splat_space:
        raise AgentError("both an image Space and a splat Space are needed",
                         hint="name them, or use --offline for the local stand-ins")
    workspace = Workspace(settings.output)
    session = SpaceSession(workspace.root, run_id=uuid.uuid4().hex[:12], token=settings.token,
                           max_calls=settings.max_space_calls, max_workers=max_workers,
                           timeout=settings.call_timeout, call_attempts=settings.call_attempts,
                           retry_backoff_s=settings.retry_backoff_s, progress=progress,
                           stall=StallPolicy(settings.stall_after_s, settings.stall_factor),
                           connector=connector)
    try:
        return _assemble(settings, workspace, session, model, model_label, step_callbacks,
                         deployer, npm, verbosity_level)
    except BaseException:
        session.close()
        raise


def _assemble(settings: Settings, workspace: Workspace, session: SpaceSession, model: Model,
              model_label: str, step_callbacks: Sequence[Callable[..., None]],
              deployer: Deployer | None, npm: str | None, verbosity_level: int) -> Harness:
    space_tools: dict[str, Tool] = {}
    roles: dict[str, RoleBinding] = {}
    pools: dict[str, RolePool] = {}
    for role in ("image", "splat"):
        bindings: list[RoleBinding] = []
        for space in settings.spaces(role):
            client = session.connect(space)
            tools = endpoint_tools(session, space, client)
            for t in tools:  # a second Space of the same kind keeps its own tool name
                base, n = t.name, 2
                while t.name in space_tools and space_tools[t.name] is not t:
                    t.name, n = f"{base}_{n}", n + 1
                space_tools[t.name] = t
            try:
                match = match_role(client.endpoints, role, num_gaussians=settings.num_gaussians)
            except AgentError as exc:
                raise AgentError(f"Space '{space}' cannot play the {role} role: {exc.message}",
                                 hint=exc.hint) from exc
            tool = next(t for t in tools if t.endpoint.name == match.endpoint
                        or t.endpoint is client.endpoints[match.endpoint])
            bindings.append(RoleBinding(role, tool, match.main_param, match.defaults))
        roles[role] = bindings[0]
        pools[role] = RolePool(role, bindings, session)

    holder: dict[str, Any] = {}
    pending: list[Any] = []
    status = lt.GoalStatus()

    def add_space(space: str) -> list[SpaceEndpointTool]:
        new = endpoint_tools(session, space, session.connect(space))
        agent_ = holder["agent"]
        for t in new:
            agent_.tools[t.name] = t
        agent_.python_executor.send_tools({**agent_.tools})
        return new

    harness_ref: dict[str, Harness] = {}

    def deploy(folder: Path, space_id: str) -> str:
        url = (deployer or _default_deployer(settings.token))(folder, space_id)
        harness_ref["h"].deployed_url = url
        return url

    local: list[Tool] = [
        CallManyTool(session, roles, lambda: holder["agent"].tools, pools),
        ChainTool(session, pools),
        DiscoverSpaceTool(add_space),
        lt.FixSplatTool(workspace),
        lt.InspectSplatTool(workspace),
        lt.BuildSiteTool(workspace, npm=npm),
        lt.ReadGalleryTool(workspace),
        lt.PreviewSiteTool(workspace),
        lt.DeploySiteTool(workspace, deploy),
        lt.WriteFileTool(workspace),
        lt.LookAtTool(workspace, pending),
        lt.GiveUpTool(status),
    ]
    instructions = render(
        "instructions",
        image_tool=roles["image"].tool.name,
        splat_tool=roles["splat"].tool.name,
        workspace=str(workspace.root),
        deploy_space=settings.deploy_space,
    )
    agent = SandboxedCodeAgent(
        tools=[*space_tools.values(), *local],
        model=model,
        prompt_templates=prompt_templates(),
        additional_authorized_imports=list(AUTHORIZED_IMPORTS),
        executor_kwargs={"timeout_seconds": None},
        max_steps=settings.max_steps,
        instructions=instructions,
        step_callbacks=[lt.attach_images(pending), *step_callbacks],
        verbosity_level=verbosity_level,
    )
    holder["agent"] = agent
    harness = Harness(agent, session, workspace, settings, model_label or str(model.model_id),
                      roles, status)
    harness_ref["h"] = harness
    return harness


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(exc).__name__


def prompt_templates() -> dict[str, Any]:
    """smolagents' CodeAgent templates with our lean system prompt (``prompts/agent.yaml``)."""
    import importlib.resources

    import yaml

    from spacesmith.agent.codeagent.prompting import templates

    source = importlib.resources.files("smolagents.prompts").joinpath("code_agent.yaml")
    loaded: dict[str, Any] = yaml.safe_load(source.read_text("utf-8"))
    loaded["system_prompt"] = templates()["system_prompt"]
    return loaded


def _default_deployer(token: str | None) -> Deployer:
    def deploy(folder: Path, space_id: str) -> str:
        from spacesmith.tools.hub.deploy import deploy as push

        return push(folder, space_id, token=token).url

    return deploy
