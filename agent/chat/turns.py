"""Turn semantics shared by every chat front end and every model (LLM or offline planner).

- Each turn's task carries one ``Current gallery:`` line (title and item names, or "none
  yet"), so any model knows whether it edits a gallery or starts one.
- A turn that leaves ``gallery.json`` and the site as they were is reported as such
  ("Nothing changed: …"), never as a success, whatever the model's answer claimed.
- "undo that", "revert", "/undo" … undo the last turn that changed something; the gallery
  and the site are put back byte for byte (the site folder is snapshotted before each of
  the last few turns as hard links in ``.undo/`` and restored; older turns rebuild it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from spacesmith.agent.planner.intents import context_line, is_undo
from spacesmith.agent.runs.report import RunOutcome

__all__ = [
    "NO_CHANGE",
    "fingerprint",
    "is_undo",
    "report_no_change",
    "restore_site",
    "snapshot_site",
    "with_context",
]

NO_CHANGE = ("Nothing changed", "Not understood")
UNDO_DIR = ".undo"
KEEP_SNAPSHOTS = 8


def with_context(task: str, gallery_json: Path) -> str:
    """``task`` plus the ``Current gallery:`` line for the gallery in ``gallery_json``."""
    gallery: dict[str, Any] | None = None
    if gallery_json.is_file():
        try:
            loaded = json.loads(gallery_json.read_text("utf-8"))
        except (OSError, ValueError):
            loaded = None
        gallery = loaded if isinstance(loaded, dict) else None
    return f"{task}\n{context_line(gallery)}"


def fingerprint(gallery_json: Path, site_dir: Path) -> str:
    """A digest of the gallery file and every file of the site (names and bytes)."""
    digest = hashlib.sha256()
    if gallery_json.is_file():
        digest.update(gallery_json.read_bytes())
    if site_dir.is_dir():
        for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
            digest.update(path.relative_to(site_dir).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def report_no_change(outcome: RunOutcome, *, changed: bool, deployed: bool) -> RunOutcome:
    """The outcome of a chat turn that changed nothing: never a success, and said so."""
    if changed or deployed:
        return outcome
    text = outcome.output.strip()
    if not text.startswith(NO_CHANGE):
        text = f"Nothing changed: {text}" if text else "Nothing changed."
    return replace(outcome, output=text, success=False)


def snapshot_site(site_dir: Path, root: Path, turn: int) -> Path | None:
    """Copy the site folder aside before turn ``turn`` (None when there is no site yet).

    Only the last :data:`KEEP_SNAPSHOTS` turns keep one (a site is a few MB, and each
    rebuild makes new files the links keep alive); undoing an older turn rebuilds the site
    from its gallery.json, which gives the same bytes (the build is deterministic).
    """
    for path in (root / UNDO_DIR).glob("site-*") if (root / UNDO_DIR).is_dir() else ():
        number = path.name.removeprefix("site-")
        if number.isdigit() and int(number) <= turn - KEEP_SNAPSHOTS:
            shutil.rmtree(path, ignore_errors=True)
    target = root / UNDO_DIR / f"site-{turn}"
    if target.exists():
        shutil.rmtree(target)
    if not (site_dir / "index.html").is_file():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    _link_tree(site_dir, target)
    return target


def _link_tree(source: Path, target: Path) -> None:
    """Copy a folder as hard links (the site build replaces files, never rewrites them)."""
    try:
        shutil.copytree(source, target, copy_function=os.link)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)


def restore_site(site_dir: Path, snapshot: Path | None) -> None:
    """Put the site folder back as it was in ``snapshot`` (empty when there was none)."""
    staging = site_dir.with_name(f".{site_dir.name}-undo")
    if staging.exists():
        shutil.rmtree(staging)
    if snapshot is not None and snapshot.is_dir():
        _link_tree(snapshot, staging)
    else:
        staging.mkdir()
    old = site_dir.with_name(f".{site_dir.name}-old")
    if old.exists():
        shutil.rmtree(old)
    if site_dir.exists():
        site_dir.rename(old)
    staging.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)


def drop_snapshots(root: Path, keep_from: int) -> None:
    """Remove the snapshots of turns from ``keep_from`` on (they were undone)."""
    folder = root / UNDO_DIR
    if not folder.is_dir():
        return
    for path in folder.glob("site-*"):
        try:
            number = int(path.name.removeprefix("site-"))
        except ValueError:
            continue
        if number >= keep_from:
            shutil.rmtree(path, ignore_errors=True)
