"""The MCP protocol side: the SDK's low-level server over stdio, one workspace.

- ``tools/list`` answers from :mod:`.catalog` at once; the Spaces (the local stand-ins with
  ``--offline``) start in the background, and a tool that needs them waits, bounded.
- ``tools/call`` checks the arguments against the tool's schema, runs the tool in a worker
  thread, and turns a :class:`SpacesmithError` into an error result (``isError``) whose text
  is the CLI's one line; a crash is one line too (the traceback goes to stderr).
- Progress: Space events and finished steps become ``notifications/progress`` when the
  client asked for them. Cancellation: a cancelled request stops its work at the next step
  or Space event (finished Space calls stay cached).
- stdout carries the protocol only: the wire gets private copies of fds 0 and 1 at start,
  fd 1 then points at stderr and fd 0 at /dev/null, so stray prints (Gradio, npm) and
  children cannot corrupt or steal it. The token is scrubbed from every result and log line.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacesmith.agent.mcp.catalog import BY_NAME, TOOLS, Box, Reply, ToolSpec
from spacesmith.agent.mcp.local import LocalTools
from spacesmith.agent.mcp.progress import Call, Notify
from spacesmith.agent.mcp.spaces import SpaceTools
from spacesmith.agent.runs.settings import (
    DEFAULT_CALL_ATTEMPTS,
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_NUM_GAUSSIANS,
)
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import AgentError, SpacesmithError, WorkspaceError

log = logging.getLogger("spacesmith.mcp")

THUMBNAIL = 512
REDACTED = "[redacted token]"


@dataclass(frozen=True)
class ServerOptions:
    """What ``spacesmith mcp`` was started with."""

    workspace: Path
    offline: bool = False
    image_space: str | None = None
    splat_space: str | None = None
    deploy_space: str | None = None
    num_gaussians: str = DEFAULT_NUM_GAUSSIANS
    max_space_calls: int = 200
    call_timeout: float = DEFAULT_CALL_TIMEOUT_S
    call_attempts: int = DEFAULT_CALL_ATTEMPTS
    max_workers: int = 4
    startup_timeout: float = 180.0
    npm: str | None = "npm"


class Toolbox:
    """The served workspace with its Space tools (started in the background) and local tools.

    Implements :class:`spacesmith.agent.mcp.catalog.Box`.
    """

    def __init__(self, options: ServerOptions, token: str | None) -> None:
        from spacesmith.tools.hub.auth import hub_endpoint

        self.options = options
        self.workspace = open_workspace(options.workspace)
        self._token = token
        self.local = LocalTools(self.workspace, deploy_space=options.deploy_space,
                                token=token, npm=options.npm, hub_endpoint=hub_endpoint())
        self._ready = threading.Event()
        self._spaces: SpaceTools | None = None
        self._failure: SpacesmithError | None = None
        self._stack = contextlib.ExitStack()
        self._starter = threading.Thread(target=self._start, name="spacesmith-mcp-spaces",
                                         daemon=True)
        self._start_lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Start the Spaces in the background (the stand-ins take seconds: ``tools/list``
        and the local tools answer meanwhile)."""
        with self._start_lock:
            if not self._started:
                self._started = True
                self._starter.start()

    def _start(self) -> None:
        from spacesmith.agent.runs.runner import spaces_for
        from spacesmith.agent.runs.settings import Settings

        opts = self.options
        try:
            settings = Settings(goal="mcp", output=self.workspace.root, offline=opts.offline,
                                image_space=opts.image_space, splat_space=opts.splat_space)
            resolved, line = self._stack.enter_context(spaces_for(settings))
            roles = {"image": str(resolved.image_space), "splat": str(resolved.splat_space)}
            named = [s for s in (opts.image_space, opts.splat_space, *roles.values()) if s]
            self._spaces = SpaceTools(self.workspace, token=self._token, named=named,
                                      roles=roles, max_calls=opts.max_space_calls,
                                      max_workers=opts.max_workers, timeout=opts.call_timeout,
                                      call_attempts=opts.call_attempts,
                                      num_gaussians=opts.num_gaussians)
            print(f"spacesmith mcp: {line}", file=sys.stderr, flush=True)
        except SpacesmithError as exc:
            self._failure = exc
        except ImportError as exc:  # --offline without the [local] extra: no gradio
            self._failure = AgentError(f"the local stand-in Spaces need {exc.name or 'gradio'}",
                                       hint="pip install 'spacesmith[local]'")
        except Exception as exc:  # the stand-ins failed to start: say so at the first call
            self._failure = AgentError(f"the Spaces could not be started: "
                                       f"{type(exc).__name__}: {exc}")
        finally:
            self._ready.set()

    def spaces(self) -> SpaceTools:
        """The Space tools, once the Spaces are ready (waits, bounded).

        Raises:
            AgentError: the Spaces failed to start or are still starting past the deadline.
        """
        self.start()
        if not self._ready.wait(self.options.startup_timeout):
            raise AgentError(f"the Spaces are still starting after "
                             f"{self.options.startup_timeout:.0f} s", hint="call again later")
        if self._failure is not None:
            raise self._failure
        assert self._spaces is not None
        return self._spaces

    def path(self, relative: str) -> Path:
        """A workspace path (confined)."""
        return self.workspace.resolve(relative)

    def close(self) -> None:
        """Stop the preview, close the Space clients, stop the stand-ins."""
        self.local.close()
        with self._start_lock:
            started = self._started
        if started:
            self._ready.wait(self.options.startup_timeout)
        if self._spaces is not None:
            self._spaces.close()
        self._stack.close()


def open_workspace(path: Path) -> Workspace:
    """The workspace at ``path`` (created with its layout when missing).

    Raises:
        WorkspaceError: it cannot be created or written.
    """
    try:
        return Workspace(path)
    except OSError as exc:
        raise WorkspaceError(f"cannot use {path} as the workspace: {exc.strerror or exc}",
                             hint="pass -o a folder you can write") from exc


INSTRUCTIONS = (
    "spacesmith turns subjects into a 3D Gaussian-splat gallery site. Usual order: "
    "generate_splats(subjects) -> build_site(gallery={title, items: gallery_items}) -> "
    "preview_site -> deploy_site. Paths are relative to the workspace the server serves. "
    "Space calls are cached by content: repeating a call is free. Use discover_space and "
    "call_space for other Spaces, inspect_splat/fix_splat for splat files."
)


class Scrubber:
    """Removes the token from text (the last wall: nothing should carry it anyway)."""

    def __init__(self, token: str | None) -> None:
        self.token = token if token and len(token) >= 8 else None

    def text(self, value: str) -> str:
        return value.replace(self.token, REDACTED) if self.token else value

    def data(self, value: dict[str, Any]) -> dict[str, Any]:
        if not self.token:
            return value
        text = json.dumps(value, ensure_ascii=False, default=str)
        if self.token not in text:
            return value
        cleaned: dict[str, Any] = json.loads(self.text(text))
        return cleaned


class McpApp:
    """The low-level MCP server bound to a :class:`Toolbox`."""

    def __init__(self, box: Box, scrubber: Scrubber) -> None:
        from mcp.server.lowlevel.server import Server

        self.box = box
        self.scrub = scrubber
        self.server: Any = Server("spacesmith", version=_version(), instructions=INSTRUCTIONS,
                                  on_list_tools=self._list_tools, on_call_tool=self._call_tool)
        self._validators: dict[str, Any] = {}

    async def _list_tools(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types

        return types.ListToolsResult(tools=[
            types.Tool(name=spec.name, title=spec.title, description=spec.description,
                       input_schema=spec.schema,
                       annotations=types.ToolAnnotations(title=spec.title,
                                                         read_only_hint=spec.read_only,
                                                         open_world_hint=spec.name in (
                                                             "generate_splats", "call_space",
                                                             "discover_space", "deploy_site")))
            for spec in TOOLS])

    async def _call_tool(self, ctx: Any, params: Any) -> Any:
        import anyio

        spec = BY_NAME.get(str(params.name))
        if spec is None:
            return self._error(f"Error: no tool {params.name!r} (tools: "
                               f"{', '.join(BY_NAME)})")
        arguments = dict(params.arguments or {})
        problem = self._problem(spec, arguments)
        if problem is not None:
            return self._error(f"Error: {spec.name}: {problem} (see the tool's input schema)")
        call = Call(notify=_notifier(ctx, self.scrub))
        finished = False
        try:
            reply: Reply = await anyio.to_thread.run_sync(
                functools.partial(spec.run, self.box, call, arguments), abandon_on_cancel=True)
            finished = True
        except SpacesmithError as exc:
            finished = True
            return self._error(f"Error: {exc}")
        except Exception as exc:
            finished = True
            log.error("%s", self.scrub.text(f"tool {spec.name} crashed: {exc!r}"),
                      exc_info=bool(os.environ.get("SPACESMITH_DEBUG")))
            first = " ".join(str(exc).split())[:200]
            return self._error(f"Error: {spec.name} failed unexpectedly: "
                               f"{type(exc).__name__}: {first} (the server's log has more; "
                               "SPACESMITH_DEBUG=1 adds the traceback)")
        finally:
            if not finished:  # cancelled by the client: stop the worker at its next step
                call.cancelled.set()
        return self._result(reply)

    def _problem(self, spec: ToolSpec, arguments: dict[str, Any]) -> str | None:
        """The first way ``arguments`` break the tool's schema, in one line, or None."""
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match

        validator = self._validators.get(spec.name)
        if validator is None:
            validator = self._validators[spec.name] = Draft202012Validator(spec.schema)
        error = best_match(validator.iter_errors(arguments))
        if error is None:
            return None
        where = ".".join(str(p) for p in error.absolute_path)
        message = " ".join(str(error.message).split())
        if len(message) > 200:
            message = message[:199] + "…"
        return f"argument {where}: {message}" if where else message

    def _error(self, text: str) -> Any:
        import mcp_types as types

        line = self.scrub.text(" ".join(text.split()))
        return types.CallToolResult(content=[types.TextContent(type="text", text=line)],
                                    is_error=True)

    def _result(self, reply: Reply) -> Any:
        import mcp_types as types

        data = self.scrub.data(reply.data)
        content: list[Any] = [types.TextContent(type="text",
                                                text=json.dumps(data, ensure_ascii=False))]
        for path in reply.images:
            encoded = _thumbnail_png(path)
            if encoded is not None:
                content.append(types.ImageContent(type="image", data=encoded,
                                                  mime_type="image/png"))
        return types.CallToolResult(content=content, structured_content=data, is_error=False)


def _notifier(ctx: Any, scrub: Scrubber) -> Notify:
    """Send progress for the request of ``ctx`` from a worker thread (a no-op when the
    client asked for none); messages are scrubbed like results."""
    import anyio
    import anyio.from_thread
    import anyio.lowlevel

    loop = anyio.lowlevel.current_token()

    def notify(progress: float, total: float | None, message: str) -> None:
        anyio.from_thread.run(ctx.session.report_progress, progress, total,
                              scrub.text(message), token=loop)

    return notify


def _thumbnail_png(path: Path) -> str | None:
    """An image file as a base64 PNG at most THUMBNAIL pixels wide, or None if unreadable."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _thumbnail_of(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _thumbnail_of(path: str, mtime_ns: int, size: int) -> str | None:
    """The thumbnail of one version of a file (a cached Space output never changes)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            picture = image.convert("RGB")
    except (OSError, ValueError):
        return None
    picture.thumbnail((THUMBNAIL, THUMBNAIL))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spacesmith")
    except PackageNotFoundError:
        return "0"


class _ScrubbingFormatter(logging.Formatter):
    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__("spacesmith mcp: %(levelname)s %(name)s: %(message)s")
        self.scrubber = scrubber

    def format(self, record: logging.LogRecord) -> str:
        return self.scrubber.text(super().format(record))


def claim_stdio() -> tuple[Any, Any]:
    """Take fds 0 and 1 for the protocol; point fd 1 at stderr and fd 0 at /dev/null.

    Returns:
        The wire's reader and writer (anyio text files) for the stdio transport.
    """
    import anyio

    wire_in, wire_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    reader = io.TextIOWrapper(os.fdopen(wire_in, "rb"), encoding="utf-8", errors="replace")
    writer = io.TextIOWrapper(os.fdopen(wire_out, "wb"), encoding="utf-8")
    return anyio.wrap_file(reader), anyio.wrap_file(writer)


def serve_stdio(options: ServerOptions) -> int:
    """Serve MCP over stdio until the client closes stdin.

    Returns:
        The exit code (0).
    """
    import anyio
    from mcp.server.stdio import stdio_server

    from spacesmith.tools.hub.auth import get_token

    open_workspace(options.workspace)  # a bad -o fails here, as one line, before the wire
    wire_in, wire_out = claim_stdio()
    token = get_token()
    scrubber = Scrubber(token)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ScrubbingFormatter(scrubber))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if os.environ.get("SPACESMITH_DEBUG") else logging.WARNING)
    box = Toolbox(options, token)
    app = McpApp(box, scrubber)
    print(f"spacesmith mcp: serving {box.workspace.root} over stdio", file=sys.stderr,
          flush=True)

    async def run() -> None:
        async with stdio_server(wire_in, wire_out) as (read, write):
            box.start()  # after the protocol's imports: they need not share the GIL with it
            await app.server.run(read, write, app.server.create_initialization_options())

    try:
        anyio.run(run)
    finally:
        box.close()
    return 0
