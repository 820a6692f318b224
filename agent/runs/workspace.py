"""The run's workspace: its layout, a confined path resolver and atomic writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from spacesmith.tools.errors import WorkspaceError
from spacesmith.tools.files import atomic_output

LAYOUT = ("cache", "splats/web", "site")


class Workspace:
    """A run's folder. Every path the agent names is resolved inside it, or refused.

    Args:
        root: the folder; created with its layout when missing.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        for sub in LAYOUT:
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.sweep()

    def sweep(self) -> int:
        """Remove the temporary files and folders a killed run left behind.

        Every write goes through a hidden temporary (``.NAME.*.tmp``, ``.NAME.part``, a
        ``.site-*`` build folder) and a rename, so these are never anyone's finished work.

        Returns:
            How many leftovers were removed.
        """
        removed = 0
        for entry in self.root.iterdir():
            if entry.is_dir() and entry.name.startswith(f".{self.site_dir.name}-"):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        for pattern in (".*.tmp", ".*.part"):
            for path in self.root.rglob(pattern):
                if path.is_file() and not path.is_symlink():
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    @property
    def gallery_json(self) -> Path:
        return self.root / "gallery.json"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def web_dir(self) -> Path:
        return self.root / "splats" / "web"

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """``path`` (relative to the workspace, or absolute) as an absolute path inside it.

        Raises:
            WorkspaceError: the path leaves the workspace (``..``, another folder, a symlink
                pointing out).
        """
        raw = Path(path)
        full = (raw if raw.is_absolute() else self.root / raw).resolve()
        if not full.is_relative_to(self.root):
            raise WorkspaceError(f"path {os.fspath(path)!r} is outside the workspace {self.root}",
                                 hint="use a path relative to the workspace, without '..'")
        return full

    def relative(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the workspace root when inside it, else as given."""
        full = Path(path).resolve()
        if full.is_relative_to(self.root):
            return full.relative_to(self.root).as_posix()
        return str(path)

    def write_text(self, path: str | os.PathLike[str], text: str) -> Path:
        """Write ``text`` to ``path`` inside the workspace, atomically."""
        return self.write_bytes(path, text.encode("utf-8"))

    def write_bytes(self, path: str | os.PathLike[str], data: bytes) -> Path:
        """Write ``data`` to ``path`` inside the workspace, atomically (temp file + rename)."""
        target = self.resolve(path)
        atomic_write(target, data)
        return target


def atomic_write(target: Path, data: bytes) -> None:
    """Write a file through a temporary sibling and a rename, so readers never see half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, mode=0o600) as handle:
        handle.write(data)
