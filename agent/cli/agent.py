"""CLI group for the agent: ``build``, ``chat``, ``studio`` and ``run``.

Heavy imports (smolagents, gradio for the stand-ins) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def register(subparsers: Any) -> None:
    """Add ``build``, ``chat``, ``studio`` and ``run`` to the spacesmith parser."""
    build = subparsers.add_parser("build", help="one sentence in, a gallery site out")
    build.add_argument("goal", help='e.g. "build a Paris monuments gallery"')
    _common(build)
    build.add_argument("--deploy", metavar="OWNER/NAME", help="deploy the site to this Space")
    build.add_argument("--subjects", metavar="A,B,C",
                       help="the subjects, comma-separated (';' when names hold commas)")
    build.set_defaults(handler=_build)

    chat = subparsers.add_parser("chat", help="iterate on a gallery in a terminal chat")
    chat.add_argument("--session", default="default",
                      help="session name; the same name resumes it (default: default)")
    chat.add_argument("--preview-port", type=int, default=0,
                      help="port of the live preview on 127.0.0.1 (default: a free one)")
    _common(chat)
    chat.set_defaults(handler=_chat)

    studio = subparsers.add_parser("studio", help="the chat in a browser, with the live gallery")
    studio.add_argument("--port", type=int, default=7860,
                        help="port of the studio on 127.0.0.1 (default: 7860)")
    studio.add_argument("--session", default="studio",
                        help="session name; the same name resumes it (default: studio)")
    _common(studio)
    studio.set_defaults(handler=_studio)

    run = subparsers.add_parser("run", help="run a goal file (TOML) with no prompt")
    run.add_argument("goal_file", type=Path, help="the goal file; its schema is in the docs")
    run.add_argument("--json", action="store_true", help="print a JSON summary")
    run.add_argument("--offline", action="store_true", help="use the local stand-in Spaces")
    run.set_defaults(handler=_run)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="the workspace (default runs/<slug>)")
    parser.add_argument("--model", help="model id, 'offline', or 'litellm/<id>' "
                        "(default: Inference Providers with a token, else offline)")
    parser.add_argument("--api-base", help="an OpenAI-compatible server (Ollama, vLLM, ...)")
    parser.add_argument("--image-space", action="append", metavar="SPACE",
                        help="the text-to-image Space (id, agents.md or URL); repeat it to "
                        "let several Spaces share the images")
    parser.add_argument("--splat-space", action="append", metavar="SPACE",
                        help="the image-to-splat Space (id, agents.md or URL); repeat it to "
                        "let several Spaces share the splats")
    parser.add_argument("--offline", action="store_true",
                        help="use local stand-in Spaces (no network)")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--num-gaussians", default="32768", help="splat size to ask for")


def _settings(args: argparse.Namespace, goal: str, output: Path | None) -> Any:
    from spacesmith.agent.runs.settings import Settings, default_output

    raw = getattr(args, "subjects", None) or ""
    subjects = tuple(s.strip() for s in raw.split(";" if ";" in raw else ",") if s.strip())
    images, splats = args.image_space or [], args.splat_space or []
    return Settings(
        goal=goal, output=output or default_output(goal), model=args.model,
        api_base=args.api_base, image_space=images[0] if images else None,
        more_image_spaces=tuple(dict.fromkeys(images[1:])),
        splat_space=splats[0] if splats else None,
        more_splat_spaces=tuple(dict.fromkeys(splats[1:])),
        deploy_space=getattr(args, "deploy", None), offline=args.offline,
        max_steps=args.max_steps, num_gaussians=str(args.num_gaussians), subjects=subjects,
    )


def _build(args: argparse.Namespace) -> int:
    from rich.console import Console

    from spacesmith.agent.chat.session import live_printer, progress_printer
    from spacesmith.agent.runs.report import agent_code_line
    from spacesmith.agent.runs.runner import contact_sheet, open_harness, spaces_for
    from spacesmith.tools.errors import AgentError, SpacesmithError

    console = Console(stderr=True)
    if not args.goal.strip() and not (args.subjects or "").strip(" ,;"):
        raise AgentError("the goal is empty: say what to build",
                         hint="e.g. spacesmith build \"build a Paris monuments gallery\", or "
                              "list the subjects: --subjects A,B,C")
    settings = _settings(args, args.goal.strip() or "a gallery", args.output)
    with spaces_for(settings) as (resolved, spaces_line):
        console.print(spaces_line)
        harness = open_harness(resolved, progress=progress_printer(console),
                               step_callbacks=[live_printer(console)],
                               on_text=text_sink(sys.stderr))
        try:
            console.print(f"model: {harness.model_label}")
            outcome = harness.run(harness.task_for(resolved.goal))
            console.print(f"agent code: {agent_code_line(harness.isolation())}", markup=False)
        except (SpacesmithError, KeyboardInterrupt):
            if (resolved.output / "report.md").is_file():  # written on every ending
                print(f"report: {resolved.output.resolve() / 'report.md'}")
            raise
        finally:
            harness.close()
    ws = resolved.output.resolve()
    said = outcome.output
    if outcome.success:
        print(f"Done: {said}")
    else:
        print(said if said.lower().startswith("goal not reached") else f"Goal NOT reached: {said}")
    if outcome.site_dir is not None:
        print(f"site: {outcome.site_dir}")
        print(f"preview: spacesmith site preview {shlex.quote(str(outcome.site_dir))}")
    if outcome.url:
        print(f"Space: {outcome.url}")
    sheet = contact_sheet(ws)
    if sheet is not None:
        print(f"contact sheet: {sheet}")
    print(f"report: {ws / 'report.md'}")
    return 0 if outcome.success else 1


def _chat(args: argparse.Namespace) -> int:
    import sys

    from spacesmith.agent.chat.live import LivePreview
    from spacesmith.agent.chat.session import ChatSession
    from spacesmith.agent.chat.terminal import chat_loop, choose_reader, make_console
    from spacesmith.agent.runs.runner import open_harness, spaces_for
    from spacesmith.tools.text import slugify

    console = make_console()
    output = args.output or Path("runs") / "chat" / slugify(args.session)
    settings = _settings(args, "chat", output)
    with spaces_for(settings) as (resolved, spaces_line):
        console.print(spaces_line, markup=False)
        harness = open_harness(resolved)
        preview = LivePreview(harness.workspace.site_dir, args.preview_port)
        try:
            session = ChatSession.open(harness)
            return chat_loop(session, console, choose_reader(harness.workspace.root),
                             preview=preview, echo=not sys.stdin.isatty())
        finally:
            preview.close()
            harness.close()


def text_sink(stream: IO[str]) -> Callable[[str], None]:
    """Where the model's answer streams as it is written: a terminal, so that a slow model
    shows progress (never stdout of ``--json``)."""

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


def _studio(args: argparse.Namespace) -> int:
    import os
    import signal
    import threading

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM closes the sessions like Ctrl-C

    signal.signal(signal.SIGTERM, stop)
    from spacesmith.agent.chat.studio import SessionPool, launch
    from spacesmith.agent.runs.runner import open_harness, spaces_for
    from spacesmith.tools.text import slugify

    output = args.output or Path("runs") / "studio" / slugify(args.session)
    settings = _settings(args, "studio", output)
    with spaces_for(settings) as (resolved, spaces_line):
        print(spaces_line, flush=True)
        pool = SessionPool(output.resolve(),
                           lambda ws: open_harness(resolved.with_(output=ws)))
        app = launch(pool, port=args.port)
        try:
            print(f"studio: http://127.0.0.1:{args.port}/ (type into the chat box, Enter sends; "
                  f"Ctrl-C stops the studio)", flush=True)
            threading.Event().wait()  # until Ctrl-C (exit 130) or SIGTERM
        finally:
            app.close()
            pool.close()
    return 0


def _run(args: argparse.Namespace) -> int:
    import json

    from spacesmith.agent.runs.headless import run_goal_file
    from spacesmith.agent.runs.progress import line_printer
    from spacesmith.tools.errors import SpacesmithError

    try:
        return run_goal_file(args.goal_file, as_json=args.json, offline=args.offline,
                             progress=line_printer())
    except SpacesmithError as exc:  # bad input or a run that could not start: JSON too
        if args.json:
            print(json.dumps({"success": False, "state": "error", "error": str(exc),
                              "exit_code": exc.exit_code, "final_answer": None},
                             ensure_ascii=False), flush=True)
        raise
