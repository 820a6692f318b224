"""The optional deploy step: the planner pushes the site to a (fake) Hub and the report
carries the Space URL, never the token."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from spacesmith.agent.codeagent.harness import Harness
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.hub.deploy import deploy
from tests.fixtures.fake_hub import WRITE_TOKEN, FakeHub


def test_build_then_deploy(offline_settings: Settings, open_agent: Callable[..., Harness],
                           fake_hub: FakeHub) -> None:
    settings = offline_settings.with_(deploy_space="tester/paris", token=WRITE_TOKEN)

    def push(folder: Path, space_id: str) -> str:
        return deploy(folder, space_id, token=WRITE_TOKEN, endpoint=fake_hub.url).url

    harness = open_agent(settings, deployer=push)
    outcome = harness.run(harness.task_for(settings.goal))
    assert outcome.success, outcome.output
    assert outcome.url == f"{fake_hub.url}/spaces/tester/paris"
    assert outcome.output.endswith(f"url: {outcome.url}")
    ws = harness.workspace.root
    report = json.loads((ws / "report.json").read_text())
    assert report["url"] == outcome.url
    for name in ("report.md", "report.json", "journal.jsonl", "gallery.json"):
        assert WRITE_TOKEN not in (ws / name).read_text()
