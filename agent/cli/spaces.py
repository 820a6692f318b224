"""``spacesmith spaces``: run the stand-in Spaces, inspect a Space, call an endpoint.

    spacesmith spaces serve [--faults RATE] [--latency S|image=S,splat=S]
                            [--concurrency N] [--port P]
    spacesmith spaces inspect SPACE [--json]
    spacesmith spaces call SPACE ENDPOINT [name=value ...] [-o DIR] [--json] [--timeout S]

Only argparse is imported here; the client (httpx) and the stand-ins (gradio) are imported
inside the handlers, and ``call`` never imports gradio, so it starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacesmith.tools.spaces.client import ProgressEvent
    from spacesmith.tools.spaces.schema import Endpoint


def register(subparsers: Any) -> None:
    """Add the ``spaces`` command group to the top-level parser."""
    group = subparsers.add_parser("spaces", help="discover, inspect and call Gradio Spaces")
    sub = group.add_subparsers(dest="spaces_command", metavar="SUBCOMMAND")
    group.set_defaults(handler=lambda args: (group.print_help(), 2)[1])

    serve = sub.add_parser("serve", help="run the local stand-in Spaces until interrupted")
    serve.add_argument("--faults", default=None, metavar="RATE",
                       help="inject faults: RATE[:KIND,...][@SEED], e.g. 0.2 or 0.5:503,quota@1 "
                       "(default: $SPACESMITH_FAULTS, else none)")
    serve.add_argument("--latency", default="0", metavar="S",
                       help="seconds each call takes: S for both, or image=S,splat=S")
    serve.add_argument("--concurrency", type=int, default=1, metavar="N",
                       help="events each stand-in runs at once (default 1, like a real Space; "
                       "the rest wait in its queue)")
    serve.add_argument("--port", type=int, default=0, metavar="P",
                       help="the image stand-in's port (the splat one uses P+1); default: free")
    serve.set_defaults(handler=run_serve)

    inspect = sub.add_parser("inspect", help="list a Space's endpoints and parameters")
    inspect.add_argument("space", help="Hub id (owner/name), agents.md URL or base URL")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=run_inspect)

    call = sub.add_parser("call", help="call one endpoint and download what it returns")
    call.add_argument("space", help="Hub id (owner/name), agents.md URL or base URL")
    call.add_argument("endpoint", help="e.g. /generate")
    call.add_argument("arguments", nargs="*", metavar="name=value",
                      help="a parameter; values are JSON when they parse as JSON, else text; "
                      "@path is a file input")
    call.add_argument("-o", "--out", default="outputs", metavar="DIR",
                      help="where downloaded files go (default: ./outputs)")
    call.add_argument("--json", action="store_true",
                      help="print JSON: outputs, files, elapsed_s, attempts")
    call.add_argument("--timeout", type=float, default=600.0, metavar="S",
                      help="overall deadline in seconds, retries included (default: 600)")
    call.set_defaults(handler=run_call)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``name=value`` words -> arguments: ``@path`` is a file, JSON when it parses, else text.

    Raises:
        InputError: a word has no ``=``.
    """
    from spacesmith.tools.errors import InputError

    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"argument {item!r} is not name=value",
                             hint="write e.g. prompt='a red arch' seed=3 image=@photo.png")
        if value.startswith("@"):
            out[name] = Path(value[1:]).expanduser()
            continue
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


def _skip_httpx_cli() -> None:
    """Save ~80 ms of cold start: ``import httpx`` also imports httpx's own command-line tool
    (click, rich, pygments) unless that import fails, in which case httpx defines a stub.
    spacesmith never uses it, so mark it unavailable before httpx is first imported."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def run_serve(args: argparse.Namespace) -> int:
    """Start both stand-ins, print their agents.md URLs, wait for Ctrl-C."""
    from spacesmith.tools.errors import InputError
    from spacesmith.tools.standins import start_standins

    try:
        standins = start_standins(faults=args.faults, latency=args.latency,
                                   concurrency=args.concurrency, port=args.port)
    except ValueError as exc:
        raise InputError(str(exc), hint="see 'spacesmith spaces serve --help'") from exc
    with standins:
        for name, url in standins.agents_md_urls.items():
            print(f"{name}: {url}", flush=True)
        print("Serving the stand-in Spaces; press Ctrl-C to stop.", file=sys.stderr, flush=True)
        try:
            wait_until_interrupted()
        except KeyboardInterrupt:
            print("Stopped.", file=sys.stderr)
    return 0


def wait_until_interrupted() -> None:
    """Block until Ctrl-C (tests replace this to stop ``serve`` from inside)."""
    import threading

    threading.Event().wait()


def run_inspect(args: argparse.Namespace) -> int:
    """Print a Space's endpoints, parameters and returns."""
    _skip_httpx_cli()
    from spacesmith.tools.spaces.client import SpaceClient

    with SpaceClient.connect(args.space) as client:
        if args.json:
            from dataclasses import asdict

            data = {"space": client.spec.space, "host": client.spec.host,
                    "call_style": client.spec.call_style, "source": client.spec.source,
                    "endpoints": {k: asdict(v) for k, v in client.endpoints.items()}}
            print(json.dumps(data, indent=2, default=str))
            return 0
        spec = client.spec
        print(f"{spec.space}  ({spec.host}, call {spec.call_style}, from {spec.source})")
        if spec.title:
            print(f"  {spec.title}")
        for endpoint in client.endpoints.values():
            print(_describe(endpoint))
    return 0


def _describe(endpoint: Endpoint) -> str:
    lines = [f"\n{endpoint.name}" + (f"  {endpoint.description}" if endpoint.description else "")]
    for p in endpoint.parameters:
        kind = "file" if p.is_file else p.type
        extra = [] if p.required else [f"default {p.default!r}"]
        if p.enum is not None:
            extra.append("one of " + ", ".join(repr(c) for c in p.enum))
        if p.minimum is not None or p.maximum is not None:
            extra.append(f"range {p.minimum:g}..{p.maximum:g}" if p.minimum is not None
                         and p.maximum is not None else "bounded")
        need = "required" if p.required else "optional"
        lines.append(f"  {p.name}: {kind}, {need}" + (f"; {'; '.join(extra)}" if extra else ""))
    for r in endpoint.returns:
        lines.append(f"  -> {r.label or '(unnamed)'}: {'file' if r.is_file else r.type} "
                     f"({r.component})")
    return "\n".join(lines)


def run_call(args: argparse.Namespace) -> int:
    """Call one endpoint; print outputs and downloaded files (or JSON)."""
    _skip_httpx_cli()
    from spacesmith.tools.spaces.client import SpaceClient

    arguments = parse_assignments(args.arguments)
    with _progress_display() as progress, SpaceClient.connect(args.space,
                                                              progress=progress) as client:
        result = client.call(args.endpoint, arguments, out_dir=Path(args.out),
                             timeout=args.timeout)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
        return 0
    for index, value in enumerate(result.outputs):
        label = _label(client.endpoints.get(result.endpoint), index)
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        print(f"{label}: {text}")
    print(f"{len(result.files)} file(s) in {result.elapsed_s:.2f} s, "
          f"{result.attempts} attempt(s)", file=sys.stderr)
    return 0


def _label(endpoint: Endpoint | None, index: int) -> str:
    if endpoint is not None and index < len(endpoint.returns) and endpoint.returns[index].label:
        return endpoint.returns[index].label
    return f"output {index}"


class _progress_display:
    """A progress hook: a rich spinner on a terminal, plain lines on stderr otherwise."""

    def __init__(self) -> None:
        self._status: Any = None

    def __enter__(self) -> Any:
        if sys.stderr.isatty():
            from rich.console import Console

            self._status = Console(stderr=True).status("connecting…")
            self._status.__enter__()
        return self

    def __call__(self, event: ProgressEvent) -> None:
        text = f"{event.endpoint or event.space}: {event.stage}"
        if event.wait_s is not None:
            text += f" in {event.wait_s:.1f} s"
        if event.detail and event.stage in ("retrying", "failed", "done", "queued"):
            text += f" ({event.detail})"
        if self._status is not None:
            self._status.update(text)
        else:
            print(f"[spaces] {text}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
