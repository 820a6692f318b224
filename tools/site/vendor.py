"""The viewer's JavaScript: pinned npm packages installed into a cache, or a CDN import map.

The pinned versions live in ``site_template/package.json`` and its lock file.  They are
installed with ``npm ci`` into ``$SPACESMITH_CACHE/npm/<lock hash>`` (default
``$XDG_CACHE_HOME/spacesmith`` or ``~/.cache/spacesmith``), never into the installed
package, so a wheel install works too.  When npm is not available and the cache is empty,
the site falls back to an import map that points at jsDelivr with the same pinned versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spacesmith.tools.errors import SiteError

# Files copied into the site, relative to node_modules, and the URL path they get.
VENDOR_FILES = {
    "three/build/three.module.js": "vendor/three/build/three.module.js",
    "three/build/three.core.js": "vendor/three/build/three.core.js",
    "three/examples/jsm/controls/OrbitControls.js":
        "vendor/three/examples/jsm/controls/OrbitControls.js",
    "three/examples/jsm/postprocessing/Pass.js": "vendor/three/examples/jsm/postprocessing/Pass.js",
    "three/LICENSE": "vendor/three/LICENSE",
    "@sparkjsdev/spark/dist/spark.module.min.js": "vendor/spark/spark.module.min.js",
    "@sparkjsdev/spark/LICENSE": "vendor/spark/LICENSE",
}
LOCAL_IMPORTS = {
    "three": "./vendor/three/build/three.module.js",
    "three/addons/": "./vendor/three/examples/jsm/",
    "@sparkjsdev/spark": "./vendor/spark/spark.module.min.js",
}
_READY = ".spacesmith-complete"


@dataclass(frozen=True)
class Pins:
    """The exact versions of the viewer's packages, read from the lock file."""

    three: str
    spark: str

    def cdn_imports(self) -> dict[str, str]:
        base = "https://cdn.jsdelivr.net/npm"
        return {
            "three": f"{base}/three@{self.three}/build/three.module.js",
            "three/addons/": f"{base}/three@{self.three}/examples/jsm/",
            "@sparkjsdev/spark": f"{base}/@sparkjsdev/spark@{self.spark}/dist/spark.module.min.js",
        }


def template_dir() -> Path:
    """The site template shipped as package data (a real directory in a wheel or checkout)."""
    return Path(str(resources.files("spacesmith.site_template")))


def read_pins(template: Path | None = None) -> Pins:
    """The pinned three and Spark versions from ``package-lock.json``.

    Raises:
        SiteError: the lock file is missing or does not pin both packages.
    """
    lock_path = (template or template_dir()) / "package-lock.json"
    try:
        packages = json.loads(lock_path.read_text(encoding="utf-8"))["packages"]
        return Pins(three=packages["node_modules/three"]["version"],
                    spark=packages["node_modules/@sparkjsdev/spark"]["version"])
    except (OSError, KeyError, ValueError) as exc:
        raise SiteError(f"cannot read the pinned viewer versions from {lock_path}: {exc}") from exc


def cache_root() -> Path:
    """Where npm packages are cached: ``$SPACESMITH_CACHE`` or the user cache directory."""
    explicit = os.environ.get("SPACESMITH_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "spacesmith"


def ensure_node_modules(npm: str | None, template: Path | None = None) -> Path | None:
    """The ``node_modules`` of the pinned packages, installing them once per lock file.

    Args:
        npm: the npm executable (a name on PATH or a path); None means npm is not to be used.
        template: the template directory (default: the installed ``site_template``).

    Returns:
        The ``node_modules`` directory, or None when the cache is empty and npm is unavailable.

    Raises:
        SiteError: npm is available but ``npm ci`` failed.
    """
    template = template or template_dir()
    lock = (template / "package-lock.json").read_bytes()
    target = cache_root() / "npm" / hashlib.sha256(lock).hexdigest()[:16]
    modules = target / "node_modules"
    if (target / _READY).is_file():
        return modules
    exe = shutil.which(npm) if npm else None
    if exe is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(template / name, work / name)
        proc = subprocess.run(
            [exe, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=work, capture_output=True, text=True, timeout=600, check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SiteError(f"npm ci for the viewer packages failed: {tail[0]}",
                            hint="check network access to the npm registry, or uninstall npm "
                                 "to build with the CDN fallback")
        (work / _READY).write_text("ok\n", encoding="utf-8")
        try:
            work.rename(target)
        except OSError:  # another build finished first; theirs is as good as ours
            if not (target / _READY).is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return modules


def copy_vendor(node_modules: Path, out_dir: Path) -> list[Path]:
    """Copy the viewer's JS (and licences) from ``node_modules`` into the site.

    Returns:
        The files written, as paths under ``out_dir``.

    Raises:
        SiteError: a pinned file is missing from ``node_modules``.
    """
    written = []
    for source, dest in VENDOR_FILES.items():
        src = node_modules / source
        if not src.is_file():
            raise SiteError(f"{src} is missing from the installed viewer packages",
                            hint=f"delete {node_modules.parent} to reinstall them")
        path = out_dir / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, path)
        written.append(path)
    return written
