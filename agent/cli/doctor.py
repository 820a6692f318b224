"""CLI group: ``spacesmith doctor [GOAL.toml] [--offline] [--json] [--model …] [--api-base …]``.

Checks that the configured path (flags > environment > goal file > defaults) can work on
this machine and prints each check with its fix; exit 0 only when it can.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``doctor`` to the spacesmith parser."""
    doctor = subparsers.add_parser("doctor", help="check that the configured path can work")
    doctor.add_argument("goal_file", nargs="?", type=Path,
                        help="a goal file whose model and Spaces to check")
    doctor.add_argument("--offline", action="store_true",
                        help="check the offline path (local stand-in Spaces, no Hub)")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.add_argument("--model", help="model id, 'offline', or 'litellm/<id>'")
    doctor.add_argument("--api-base", help="an OpenAI-compatible server")
    doctor.add_argument("--image-space", help="the text-to-image Space")
    doctor.add_argument("--splat-space", help="the image-to-splat Space")
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from spacesmith.agent.runs.doctor import passed, render, run_doctor
    from spacesmith.agent.runs.headless import parse_goal_file
    from spacesmith.agent.runs.settings import Settings, from_environment

    if args.goal_file is not None:
        settings = parse_goal_file(args.goal_file)
    else:
        settings = Settings(goal="doctor", output=Path("runs") / "doctor")
    flags = {"model": args.model, "api_base": args.api_base, "image_space": args.image_space,
             "splat_space": args.splat_space}
    settings = from_environment(settings.with_(**{k: v for k, v in flags.items() if v}))
    offline = args.offline or settings.offline
    checks = run_doctor(settings, offline=offline)
    ok = passed(checks)
    if args.json:
        print(json.dumps({"ok": ok, "offline": offline,
                          "checks": [c.as_dict() for c in checks]}, ensure_ascii=False))
    else:
        print(render(checks))
    return 0 if ok else 1
