"""``spacesmith mcp``: start-up, the protocol's cost on a cached call, the cache on a chain.

    .venv/bin/python benchmarks/bench_mcp.py [--starts 5] [--calls 30]

Measured in one run against ``spacesmith mcp --offline`` driven by the ``mcp`` client SDK
over stdio, each figure beside its peer:

- start-up until ``initialize`` answers, against a minimal server on the same SDK (one
  tool, started by the same interpreter): median of interleaved fresh starts;
- a cached ``call_space`` over MCP, against the same cached call made in process through
  the same Space session code (median of many round trips): what the protocol adds;
- ``generate_splats`` of two subjects made again (every Space call cached), against the
  first time (every call made).

Writes benchmarks/results/mcp.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "mcp.json"
BIN = Path(sys.executable).parent
SUBJECTS = ["Panthéon", "Arc de Triomphe"]
PROMPT = {"prompt": "a lighthouse on a cliff"}
MINIMAL = """
import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[types.Tool(name="echo", description="echo",
        input_schema={"type": "object", "properties": {}})])

async def call_tool(ctx, params):
    return types.CallToolResult(content=[types.TextContent(type="text", text="ok")])

server = Server("minimal", on_list_tools=list_tools, on_call_tool=call_tool)

async def main():
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""


async def time_start(command: str, args: list[str], env: dict[str, str]) -> float:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=command, args=args, env=env)
    with open(os.devnull, "w") as quiet:
        start = time.perf_counter()
        async with stdio_client(params, errlog=quiet) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            return time.perf_counter() - start


async def session_figures(workspace: Path, env: dict[str, str], calls: int) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=str(BIN / "spacesmith"),
                                   args=["mcp", "--offline", "-o", str(workspace)], env=env)
    out: dict[str, Any] = {}
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            found = await session.call_tool("discover_space", {"space": "image"})
            out["image_url"] = found.structured_content["space"]
            for label in ("first", "again"):
                start = time.perf_counter()
                chain = await session.call_tool("generate_splats",
                                                {"subjects": SUBJECTS, "show_images": False})
                out[f"chain_{label}_s"] = time.perf_counter() - start
                out[f"chain_{label}_cached"] = chain.structured_content["cached"]
            await session.call_tool("call_space", {"space": "image", "arguments": PROMPT})
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                result = await session.call_tool("call_space",
                                                 {"space": "image", "arguments": PROMPT})
                times.append(time.perf_counter() - start)
                assert result.structured_content["cached"] is True
            out["cached_call_mcp_s"] = statistics.median(times)
            out["in_process_s"] = in_process(workspace, out["image_url"], calls)
    return out


def in_process(workspace: Path, image_url: str, calls: int) -> float:
    """The same cached call through SpaceTools in this process (the stand-in still runs)."""
    from spacesmith.agent.mcp.progress import Call
    from spacesmith.agent.mcp.spaces import SpaceTools
    from spacesmith.agent.runs.workspace import Workspace

    tools = SpaceTools(Workspace(workspace), token=None, named=[image_url],
                       roles={"image": image_url, "splat": image_url}, max_calls=1,
                       max_workers=1, timeout=60.0, call_attempts=1, num_gaussians="32768")
    try:
        tools.call(Call(), "image", None, [PROMPT])
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            (result,) = tools.call(Call(), "image", None, [PROMPT])
            times.append(time.perf_counter() - start)
            assert result["cached"] is True
        return statistics.median(times)
    finally:
        tools.close()


def main() -> None:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5, help="timed starts per server")
    parser.add_argument("--calls", type=int, default=30, help="timed cached calls")
    args = parser.parse_args()
    env = {"PATH": os.environ.get("PATH", ""), "GRADIO_ANALYTICS_ENABLED": "False",
           "NO_PROXY": "127.0.0.1,localhost"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        minimal = root / "minimal.py"
        minimal.write_text(MINIMAL)
        ours, peer = [], []
        for i in range(args.starts):  # interleaved: load hits both alike
            ours.append(anyio.run(time_start, str(BIN / "spacesmith"),
                                  ["mcp", "--offline", "-o", str(root / f"start-{i}")], env))
            peer.append(anyio.run(time_start, sys.executable, [str(minimal)], env))
        figures = anyio.run(session_figures, root / "ws", env, args.calls)
    startup, startup_peer = statistics.median(ours), statistics.median(peer)
    result = {
        "startup_s": {"spacesmith": startup, "minimal_sdk_server": startup_peer},
        "startup_ratio": startup / startup_peer, "startup_target": 3.0,
        "cached_call_s": {"mcp": figures["cached_call_mcp_s"],
                          "in_process": figures["in_process_s"]},
        "protocol_overhead_s": figures["cached_call_mcp_s"] - figures["in_process_s"],
        "protocol_overhead_target_s": 0.05,
        "chain_s": {"first": figures["chain_first_s"], "cached": figures["chain_again_s"]},
        "chain_cached": figures["chain_again_cached"],
        "chain_ratio": figures["chain_again_s"] / figures["chain_first_s"],
        "chain_target": 0.1, "subjects": len(SUBJECTS), "starts": args.starts,
        "calls": args.calls, "load_average": os.getloadavg(), "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
