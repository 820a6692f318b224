"""Build and run the CodeAgent: model, discovered Space tools, local tools, executor limits.

The same harness serves an LLM and the offline planner: the planner is only a ``Model``.
"""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smolagents import CodeAgent, Tool
from smolagents.local_python_executor import BASE_PYTHON_TOOLS
from smolagents.models import ChatMessage, MessageRole, Model
from smolagents.monitoring import AgentLogger, LogLevel

from spacesmith.agent.calls.pool import RolePool
from spacesmith.agent.calls.port import Connector
from spacesmith.agent.calls.roles import match_role
from spacesmith.agent.calls.session import SpaceSession
from spacesmith.agent.codeagent import local_tools as lt
from spacesmith.agent.codeagent.output_guard import OutputGuard
from spacesmith.agent.codeagent.policy import SpacePolicy
from spacesmith.agent.codeagent.prompting import render
from spacesmith.agent.codeagent.space_tools import (
    CallManyTool,
    ChainTool,
    DiscoverSpaceTool,
    RoleBinding,
    SpaceEndpointTool,
    endpoint_tools,
)
from spacesmith.agent.executor.process import CodeLimits, IsolatedCodeAgent, ProcessExecutor
from spacesmith.agent.runs.report import RunOutcome, RunRecord, write_report
from spacesmith.agent.runs.settings import Settings
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools import redact
from spacesmith.tools.errors import AgentError, ModelError, SpaceError, SpacesmithError
from spacesmith.tools.spaces.client import ProgressEvent
from spacesmith.tools.spaces.stall import StallPolicy

# Glue only. Never os, sys, subprocess, pathlib, shutil, io: files go through write_file.
# Nor numpy or plyfile: np.fromfile/np.save/memmap/DataSource and PlyData.write read and
# write any file. The code runs in a child process (agent/executor/process.py), jailed and
# limited, under the interpreter checks of agent/executor/sandbox.py.
AUTHORIZED_IMPORTS = ("math", "json", "statistics", "unicodedata")

# names a Space's tool may never take: the agent's own tools, final_answer, Python's builtins
LOCAL_TOOLS: tuple[type[Tool], ...] = (
    CallManyTool, DiscoverSpaceTool, lt.FixSplatTool, lt.InspectSplatTool, lt.BuildSiteTool,
    lt.ReadGalleryTool, lt.PreviewSiteTool, lt.DeploySiteTool, lt.WriteFileTool, lt.LookAtTool,
    lt.GiveUpTool)
RESERVED_NAMES = frozenset({str(t.name) for t in LOCAL_TOOLS} | {"final_answer"}
                           | set(dir(builtins)) | set(BASE_PYTHON_TOOLS))

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
    policy: SpacePolicy
    deployed_url: str | None = None
    guard: OutputGuard = field(default_factory=lambda: OutputGuard("generate_image"))

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

    def isolation(self) -> dict[str, Any]:
        """How agent code ran: its confinement, and the steps its process was stopped."""
        executor = self.agent.python_executor
        if not isinstance(executor, ProcessExecutor):
            return {"process": False, "confinement": "in-process", "restarts": 0, "stopped": []}
        confinement = executor.confinement
        return {"process": True,
                "confinement": confinement.describe() if confinement else "not started",
                "restarts": max(executor.events.starts - 1, 0),
                "stopped": list(executor.events.kills)}

    def run(self, task: str, *, reset: bool = True, max_steps: int | None = None) -> RunOutcome:
        """Run the agent on ``task`` (``reset=False`` keeps the conversation) and report.

        ``task`` is the user's own words: the Spaces and URLs it names become reachable
        (:class:`~spacesmith.agent.codeagent.policy.SpacePolicy`).

        Returns:
            The outcome; ``success`` means a final answer that is not a give-up, with a
            built site.
        """
        from smolagents.utils import AgentError as StepError
        from smolagents.utils import AgentGenerationError

        if not task.strip():
            raise AgentError("the goal is empty: say what to build",
                             hint="e.g. 'build a Paris monuments gallery'")
        limit = max_steps or self.settings.max_steps
        start = time.monotonic()
        self.policy.name_in_text(task)
        first_step = 0 if reset else len(self.agent.memory.steps)
        self.status.gave_up = None  # each run (each chat turn) says for itself
        self.guard.reset()
        error: BaseException | None = None
        try:
            result = self.agent.run(task, reset=reset, max_steps=limit,
                                    return_full_result=True)
            output, state = str(result.output), str(result.state)
            if state == "max_steps_error":
                output = f"stopped: step limit {limit} reached"
        except AgentGenerationError as exc:
            error = model_failure(exc, self.model_label)
            output, state = f"stopped: {error.message}", "model_error"
        except StepError:  # the agent was interrupted (a run of unusable answers)
            if not self.guard.tripped:
                raise
            output, state = f"stopped: {self.guard.ending}", "unusable_output"
        except KeyboardInterrupt as exc:
            error = exc
            output, state = "stopped: interrupted (Ctrl-C)", "interrupted"
        built = (self.workspace.site_dir / "index.html").is_file()
        site = self.workspace.site_dir if built else None
        success = state == "success" and self.status.gave_up is None and site is not None
        if state == "success" and not success:  # the agent ended, the goal was not reached
            state = "goal_not_reached"
        outcome = RunOutcome(output, state, success,
                             len(self.agent.memory.steps) - first_step,
                             time.monotonic() - start, site, self.deployed_url)
        calls = self.session.journal.read(run_id=self.session.run_id)
        write_report(RunRecord(task, outcome, list(self.agent.memory.steps), calls,
                               self.workspace, self.model_label, self.system_prompt_chars,
                               first_step, self.isolation()), token=self.settings.token)
        if error is not None:
            raise error
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
    redact.register(settings.token)
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
        listed = settings.spaces(role)
        unreachable: list[SpaceError] = []
        for space in listed:
            try:
                client = session.connect(space)
            except SpaceError as exc:
                if len(listed) == 1:
                    raise
                # one Space of a list that cannot be reached now: the others share its jobs
                session.set_aside(space, f"cannot be reached: {exc.message}")
                if session.progress is not None:
                    session.progress(ProgressEvent(space, None, "failed", (
                        f"set aside for the rest of the run: cannot be reached ("
                        f"{len(listed) - 1 - len(unreachable)} other {role} Space(s) left)")))
                unreachable.append(exc)
                continue
            tools = endpoint_tools(session, space, client, taken=space_tools,
                                   reserved=RESERVED_NAMES)
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
        if not bindings:
            raise unreachable[0]
        roles[role] = bindings[0]
        pools[role] = RolePool(role, bindings, session)

    holder: dict[str, Any] = {}
    pending: list[Any] = []
    status = lt.GoalStatus()
    policy = SpacePolicy()
    for named in (settings.image_space, settings.splat_space):
        policy.name(named)
    policy.name_deploy(settings.deploy_space)

    def add_space(space: str) -> list[SpaceEndpointTool]:
        space = policy.check_discover(space)
        agent_ = holder["agent"]
        new = endpoint_tools(session, space, session.connect(space), taken=agent_.tools,
                             reserved=RESERVED_NAMES)
        for t in new:
            agent_.tools[t.name] = t
        agent_.python_executor.send_tools({**agent_.tools})
        return new

    harness_ref: dict[str, Harness] = {}

    def deploy(folder: Path, space_id: str) -> str:
        space_id = policy.check_deploy(space_id)
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
    guard = OutputGuard(roles["image"].tool.name)
    limits = CodeLimits(cpu_s=settings.code_cpu_s, wall_s=settings.code_wall_s,
                        memory_mb=settings.code_memory_mb,
                        output_chars=settings.code_output_chars)
    agent = IsolatedCodeAgent(
        tools=[*space_tools.values(), *local],
        model=model,
        prompt_templates=prompt_templates(),
        additional_authorized_imports=list(AUTHORIZED_IMPORTS),
        executor_kwargs={"limits": limits, "jail": settings.code_jail},
        max_steps=settings.max_steps,
        instructions=instructions,
        step_callbacks=[lt.attach_images(pending), guard, *step_callbacks],
        verbosity_level=verbosity_level,
        logger=stderr_logger(verbosity_level),
    )
    # At the step limit smolagents asks the model for one more, forced "final answer": an
    # extra call (to a server that may be what went wrong) whose text hid the real ending.
    # The run says "stopped: step limit N reached" instead (Harness.run).
    agent.provide_final_answer = _no_forced_answer  # type: ignore[method-assign]
    holder["agent"] = agent
    harness = Harness(agent, session, workspace, settings, model_label or str(model.model_id),
                      roles, status, policy, guard=guard)
    harness_ref["h"] = harness
    return harness


def stderr_logger(verbosity_level: int) -> AgentLogger:
    """smolagents' logger on stderr (stdout carries only what a command promises), silent
    at verbosity 0: the harness reports errors itself, once."""
    from rich.console import Console

    level = LogLevel.OFF if verbosity_level <= 0 else LogLevel(min(verbosity_level, 2))
    return AgentLogger(level=level, console=Console(stderr=True, highlight=False))


def _no_forced_answer(task: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, content="stopped: step limit reached")


def model_failure(exc: BaseException, label: str) -> SpacesmithError:
    """The one-line error for a model that failed: our own ModelError when the model is a
    ChatModel, else the first meaningful line of what the model library raised."""
    cause = exc.__cause__
    if isinstance(cause, SpacesmithError):
        return cause
    text = str(cause or exc)
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.startswith("Error in generating model output")]
    return ModelError(f"the model {label} failed: {lines[0][:300] if lines else 'no detail'}")


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
