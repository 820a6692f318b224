"""CLI group ``mcp``: serve spacesmith's tools to an MCP client over stdio."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_WORKSPACE = Path("runs") / "mcp"


def register(subparsers: Any) -> None:
    """Add ``mcp`` to the spacesmith parser."""
    mcp = subparsers.add_parser(
        "mcp", help="serve the Space calls, splat fixes, site and deploy as MCP tools (stdio)",
        description="An MCP server over stdio for Claude Code, Cursor, tiny-agents and any "
                    "MCP client. stdout carries the protocol only; logs go to stderr.")
    mcp.add_argument("-o", "--output", type=Path, default=DEFAULT_WORKSPACE,
                     help=f"the workspace to serve (default {DEFAULT_WORKSPACE})")
    mcp.add_argument("--offline", action="store_true",
                     help="start the local stand-in Spaces (no network)")
    mcp.add_argument("--image-space", help="the text-to-image Space (id, agents.md or URL)")
    mcp.add_argument("--splat-space", help="the image-to-splat Space (id, agents.md or URL)")
    mcp.add_argument("--deploy", metavar="OWNER/NAME",
                     help="the only Space deploy_site may push to (default: deploy is off)")
    mcp.add_argument("--num-gaussians", default="32768", help="splat size to ask for")
    mcp.add_argument("--max-space-calls", type=int, default=200,
                     help="uncached Space calls allowed while the server runs (default 200)")
    mcp.add_argument("--call-timeout", type=float, default=900.0,
                     help="seconds one Space call may take (default 900)")
    mcp.add_argument("--call-attempts", type=int, default=3,
                     help="times a failed Space call is made before giving up (default 3)")
    mcp.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from spacesmith.agent.mcp.server import ServerOptions, serve_stdio
    from spacesmith.tools.errors import InputError

    if args.max_space_calls < 1 or args.call_attempts < 1 or args.call_timeout <= 0:
        raise InputError("--max-space-calls, --call-attempts and --call-timeout must be "
                         "positive")
    if args.deploy:
        from spacesmith.tools.hub.deploy import validate_space_id

        validate_space_id(args.deploy)
    return serve_stdio(ServerOptions(
        workspace=args.output, offline=args.offline, image_space=args.image_space,
        splat_space=args.splat_space, deploy_space=args.deploy,
        num_gaussians=str(args.num_gaussians), max_space_calls=args.max_space_calls,
        call_timeout=args.call_timeout, call_attempts=args.call_attempts))
