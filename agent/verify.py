"""Judging a finished build from its files alone, and reading its journal.

Used by the fault and crash-resume benchmarks and tests: a site is correct when
``site/index.html`` exists, the gallery has the expected items, and every item's web splat
reads, stands upright on the ground and has a sane number of Gaussians.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

SUBJECTS = ("Panthéon", "Arc de Triomphe", "Tour Eiffel", "Notre-Dame de Paris",
            "Sacré-Cœur", "Louvre")
GOAL = "build a Paris monuments gallery"


def goal_toml(*, image: str, splat: str, output: Path, subjects: Iterable[str] = SUBJECTS,
              num_gaussians: str = "32768", call_timeout: float = 900.0,
              call_attempts: int = 3, retry_backoff_s: float = 1.0,
              max_space_calls: int = 60) -> str:
    """A goal file for an offline-planner build against the Spaces at ``image``/``splat``."""
    names = ", ".join(json.dumps(s, ensure_ascii=False) for s in subjects)
    return "\n".join([
        f"goal = {json.dumps(GOAL)}",
        f"subjects = [{names}]",
        'model = "offline"',
        f"output = {json.dumps(str(output))}",
        f"num_gaussians = {json.dumps(num_gaussians)}",
        "[spaces]",
        f"image = {json.dumps(image)}",
        f"splat = {json.dumps(splat)}",
        "[limits]",
        "max_steps = 12",
        f"max_space_calls = {max_space_calls}",
        f"call_timeout = {call_timeout}",
        f"call_attempts = {call_attempts}",
        f"retry_backoff_s = {retry_backoff_s}",
        "",
    ])


def site_problems(workspace: Path, *, items: int, max_count: int) -> list[str]:
    """What is wrong with the site built in ``workspace`` (empty: it is correct)."""
    from tools.splat.io import read_splat_file

    problems: list[str] = []
    if not (workspace / "site" / "index.html").is_file():
        problems.append("site/index.html is missing")
    try:
        gallery = json.loads((workspace / "gallery.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return [*problems, f"gallery.json unreadable: {exc}"]
    entries = gallery.get("items", [])
    if len(entries) != items:
        problems.append(f"gallery has {len(entries)} items, expected {items}")
    for entry in entries:
        name = entry.get("name", "?")
        try:
            splat = read_splat_file(workspace / entry["splat"])
        except Exception as exc:  # any failure to read is the finding
            problems.append(f"{name}: web splat unreadable: {exc}")
            continue
        count = len(splat.positions)
        if not 1000 <= count <= max_count:
            problems.append(f"{name}: {count} Gaussians (expected 1000..{max_count})")
            continue
        positions = splat.positions.astype(np.float64)
        low, high = np.percentile(positions, 1, axis=0), np.percentile(positions, 99, axis=0)
        height = float(high[1] - low[1])
        if height <= 0.3 or low[1] < -0.1 * height:
            problems.append(f"{name}: not upright (y from {low[1]:.2f} to {high[1]:.2f})")
    return problems


def journal(workspace: Path) -> list[dict[str, Any]]:
    """The workspace's journal events (torn lines skipped)."""
    from agent.cache import Journal

    return Journal(workspace / "journal.jsonl").read()


def call_stats(events: list[dict[str, Any]]) -> dict[str, int]:
    """Calls finished, served from cache and failed; submissions and retries, from a journal.

    ``retries`` counts every extra submission: the client's retries of transport faults plus
    the harness's re-calls (``recalls``) of error events, hangs and unreadable files.
    """
    calls = [e for e in events if e.get("kind") == "call"]
    finished = [e for e in calls if not e.get("cached") and "error" not in e]
    failed = [e for e in calls if "error" in e]
    submissions = sum(int(e.get("attempts") or 0) for e in calls if not e.get("cached"))
    return {
        "finished": len(finished),
        "cached": sum(1 for e in calls if e.get("cached")),
        "failed": len(failed),
        "submissions": submissions,
        "retries": max(0, submissions - len(finished)),
        "recalls": sum(1 for e in events if e.get("kind") == "call_retry"),
    }


def finished_keys(events: list[dict[str, Any]]) -> set[str]:
    """Keys of the calls recorded finished (made, not cached, no error)."""
    return {str(e["key"]) for e in events
            if e.get("kind") == "call" and not e.get("cached") and "error" not in e}
