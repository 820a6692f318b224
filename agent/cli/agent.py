"""CLI group for the agent: ``build``, ``chat`` and ``run``.

Heavy imports (smolagents, gradio for the stand-ins) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``build``, ``chat`` and ``run`` to the spacesmith parser."""
    build = subparsers.add_parser("build", help="one sentence in, a gallery site out")
    build.add_argument("goal", help='e.g. "build a Paris monuments gallery"')
    _common(build)
    build.add_argument("--deploy", metavar="OWNER/NAME", help="deploy the site to this Space")
    build.set_defaults(handler=_build)

    chat = subparsers.add_parser("chat", help="iterate on a gallery in a terminal chat")
    chat.add_argument("--session", default="default",
                      help="session name; the same name resumes it (default: default)")
    _common(chat)
    chat.set_defaults(handler=_chat)

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

    images, splats = args.image_space or [], args.splat_space or []
    return Settings(
        goal=goal, output=output or default_output(goal), model=args.model,
        api_base=args.api_base, image_space=images[0] if images else None,
        more_image_spaces=tuple(dict.fromkeys(images[1:])),
        splat_space=splats[0] if splats else None,
        more_splat_spaces=tuple(dict.fromkeys(splats[1:])),
        deploy_space=getattr(args, "deploy", None), offline=args.offline,
        max_steps=args.max_steps, num_gaussians=str(args.num_gaussians),
    )


def _build(args: argparse.Namespace) -> int:
    from rich.console import Console

    from spacesmith.agent.chat.session import live_printer, progress_printer
    from spacesmith.agent.runs.runner import contact_sheet, open_harness, spaces_for

    console = Console(stderr=True)
    settings = _settings(args, args.goal, args.output)
    with spaces_for(settings) as (resolved, spaces_line):
        console.print(spaces_line)
        harness = open_harness(resolved, progress=progress_printer(console),
                               step_callbacks=[live_printer(console)])
        try:
            console.print(f"model: {harness.model_label}")
            outcome = harness.run(harness.task_for(resolved.goal))
        finally:
            harness.close()
    ws = resolved.output.resolve()
    print(("Done: " if outcome.success else "Goal NOT reached: ") + outcome.output)
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
    from rich.console import Console

    from spacesmith.agent.chat.session import ChatSession, chat_loop, live_printer, progress_printer
    from spacesmith.agent.runs.runner import open_harness, spaces_for
    from spacesmith.tools.text import slugify

    console = Console()
    output = args.output or Path("runs") / "chat" / slugify(args.session)
    settings = _settings(args, "chat", output)
    with spaces_for(settings) as (resolved, spaces_line):
        console.print(spaces_line)
        harness = open_harness(resolved, progress=progress_printer(console),
                               step_callbacks=[live_printer(console)])
        try:
            session = ChatSession.open(harness)
            return chat_loop(session, console, console.input)
        finally:
            harness.close()


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
