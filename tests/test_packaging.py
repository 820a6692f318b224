"""The installed shape: one top-level package, a public API, no import circles.

The wheel is built once per session and installed into a clean venv beside PyPI's
``tools==1.0.38`` and ``agent==0.1.3``, which write the generic top-level names the
repository's folders have (``tools/__init__.py``, ``agent.py``).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import spacesmith

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib
from spacesmith.tools.splat.synthetic import write_test_ply

ROOT = Path(__file__).resolve().parent.parent
# repository folder -> installed package
FOLDERS = {"agent": "spacesmith.agent", "tools": "spacesmith.tools",
           "prompts": "spacesmith.prompts", "site_template": "spacesmith.site_template"}
NEIGHBOURS = ("tools==1.0.38", "agent==0.1.3")


def _pip(python: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = _pip(Path(sys.executable), "wheel", "-q", "--no-deps", "--no-build-isolation",
                "-w", str(out), str(ROOT))
    if done.returncode != 0:  # no setuptools in this venv: build it isolated
        done = _pip(Path(sys.executable), "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT))
    assert done.returncode == 0, done.stderr
    (whl,) = out.glob("spacesmith-*.whl")
    return whl


def test_wheel_installs_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"spacesmith"}
    # package data travels, test helpers and node_modules do not
    assert "spacesmith/prompts/agent.yaml" in names
    assert "spacesmith/site_template/index.html.j2" in names
    assert "spacesmith/site_template/viewer.js" in names
    assert not [n for n in names if "node_modules" in n or "/verify.py" in n or "tests/" in n]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {"spacesmith"}
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "node_modules" not in init.parts:
                rel = init.parent.relative_to(ROOT / folder).parts
                found.add(".".join((package, *rel)))
    assert listed == found


@pytest.fixture(scope="module")
def neighbour_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Path]:
    """A clean venv holding PyPI's ``tools`` and ``agent``, then the spacesmith wheel."""
    where = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    got = _pip(python, "install", "-q", "--no-deps", *NEIGHBOURS, timeout=300)
    if got.returncode != 0:
        pytest.skip(f"PyPI unreachable, cannot install {' and '.join(NEIGHBOURS)}: "
                    f"{got.stderr.strip().splitlines()[-1:]}")
    got = _pip(python, "install", "-q", str(wheel))
    if got.returncode != 0 and "No matching distribution" in got.stderr:
        pytest.skip(f"package registry unreachable for spacesmith's dependencies: {got.stderr}")
    assert got.returncode == 0, got.stderr
    yield python


def test_wheel_works_beside_pypi_tools_and_agent(neighbour_venv: Path, tmp_path: Path) -> None:
    bin_dir = neighbour_venv.parent
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    src = tmp_path / "in.ply"
    write_test_ply(src, n=500, seed=3)
    # from a folder that holds its own tools/ and agent/: neither may shadow spacesmith
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").write_text("raise SystemExit('wrong tools')\n")
    (tmp_path / "agent.py").write_text("raise SystemExit('wrong agent')\n")
    convert = subprocess.run(
        [str(bin_dir / "spacesmith"), "splat", "convert", str(src), str(tmp_path / "out.spz"),
         "--flip-y", "--frame"], capture_output=True, text=True, cwd=tmp_path, env=env,
        timeout=120)
    assert convert.returncode == 0, convert.stderr
    assert (tmp_path / "out.spz").stat().st_size > 0
    probe = (
        "import spacesmith, tools, agent, importlib.resources as r\n"
        "assert spacesmith.read_splat('out.spz').count == 500\n"
        "assert r.files('spacesmith.prompts').joinpath('agent.yaml').is_file()\n"
        "print(tools.__file__); print(agent.__file__)\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "out.spz").write_bytes((tmp_path / "out.spz").read_bytes())
    done = subprocess.run([str(neighbour_venv), "-c", probe], capture_output=True, text=True,
                          cwd=elsewhere, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    tools_file, agent_file = done.stdout.split()
    assert "site-packages" in tools_file and "site-packages" in agent_file  # PyPI's, intact
    main = subprocess.run([str(neighbour_venv), "-m", "spacesmith", "--help"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert main.returncode == 0 and "usage: spacesmith" in main.stdout, main.stderr


def test_public_api_names_resolve() -> None:
    assert "SpaceClient" in spacesmith.__all__
    stub = ast.parse((ROOT / "spacesmith" / "__init__.pyi").read_text())
    (listed,) = [node.value for node in stub.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "__all__"]
    assert sorted(ast.literal_eval(listed)) == sorted(spacesmith.__all__)
    for name in spacesmith.__all__:
        assert getattr(spacesmith, name) is not None, name
    with pytest.raises(AttributeError):
        _ = spacesmith.no_such_name  # type: ignore[attr-defined]


def test_import_spacesmith_stays_light() -> None:
    code = ("import sys, spacesmith\n"
            "print(sorted(m for m in ('numpy', 'httpx', 'smolagents') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def _module_imports() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports (at any depth, typing
    imports included), with the parent packages that importing a module runs first."""
    files: dict[str, Path] = {"spacesmith": ROOT / "spacesmith" / "__init__.py"}
    for folder in ("agent", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join((FOLDERS[folder], *parts))] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        parents = {".".join(t.split(".")[:i]) for t in targets for i in range(1, t.count(".") + 1)}
        graph[name] = {t for t in targets | parents
                       if t in files and t != name and not name.startswith(t + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        comp.append(top)
                        if top == node:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_import_cycles() -> None:
    graph = _module_imports()
    assert len(graph) > 50
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_tools_never_imports_agent() -> None:
    graph = _module_imports()
    leaks = {m: sorted(t for t in ts if t.startswith("spacesmith.agent"))
             for m, ts in graph.items() if m.startswith("spacesmith.tools")}
    assert {m: t for m, t in leaks.items() if t} == {}


def test_readme_library_example_runs_against_the_standins(agent_spaces: Any,
                                                          tmp_path: Path) -> None:
    """The README's "Use it as a library" block, as written; only the Space URL differs."""
    from PIL import Image

    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Use it as a library"):]
    start = section.index("```python\n") + len("```python\n")
    code = section[start:section.index("\n```", start)]
    assert "http://127.0.0.1:7861" in code
    code = code.replace("http://127.0.0.1:7861", agent_spaces.splat_url)
    picture = Image.new("RGB", (96, 96))
    picture.paste((200, 180, 120), (28, 16, 68, 88))
    picture.save(tmp_path / "eiffel.png")
    (tmp_path / "gallery.json").write_text(
        '{"title": "Paris", "items": [{"name": "Eiffel Tower", "splat": "web/eiffel.spz"}]}')
    (tmp_path / "example.py").write_text(code)
    env = {**os.environ, "SPACESMITH_CACHE": str(tmp_path / "npm-cache")}
    done = subprocess.run([sys.executable, "example.py"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "'/generate'" in done.stdout and "spaces/me/my-gallery" in done.stdout
    assert (tmp_path / "site" / "index.html").is_file()
    assert spacesmith.read_splat(tmp_path / "web" / "eiffel.spz").count > 0
