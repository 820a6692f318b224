"""Bad input, by corpus: malformed agents.md, /info, SSE streams, splat files, gallery JSON and
goal files each give one typed error with a one-line message, and at the command line one
``Error: …`` line on stderr, no traceback, and a non-zero exit (2 for the user's own files).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spacesmith.agent.cli.main import main
from spacesmith.tools.errors import (
    AgentsMdError,
    DiscoveryError,
    ForeignHostError,
    SchemaError,
    SpacesmithError,
    SplatFormatError,
    TransientSpaceError,
)
from tests.corpus.fake_space import FakeSpace, fake_space
from tests.corpus.files import (
    GALLERY_CORPUS,
    GOAL_CORPUS,
    INFO_CORPUS,
    agents_md_corpus,
    other_splat_corpus,
    ply_corpus,
    valid_ply,
)

HOST = "owner-name.hf.space"


def one_error_line(capsys: pytest.CaptureFixture[str], code: int, expected_code: int,
                   fragment: str = "") -> str:
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == expected_code, err
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), err
    assert "Traceback" not in err + out
    assert fragment in lines[0], lines[0]
    return lines[0]


# --- agents.md / info / SSE ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(agents_md_corpus(HOST)))
def test_malformed_agents_md(name: str) -> None:
    from spacesmith.tools.spaces.agents_md import parse_agents_md

    text, fragment = agents_md_corpus(HOST)[name]
    with pytest.raises((AgentsMdError, ForeignHostError)) as info:
        parse_agents_md(text, space="owner/name", expected_host=HOST)
    assert fragment in info.value.message and "\n" not in str(info.value)


@pytest.mark.parametrize("name", sorted(INFO_CORPUS))
def test_malformed_info(name: str) -> None:
    from spacesmith.tools.spaces.schema import parse_info

    doc, fragment = INFO_CORPUS[name]
    with pytest.raises(SchemaError) as info:
        parse_info(doc, space="owner/name")
    assert fragment in info.value.message


def test_prose_ranges_in_info_are_not_ranges() -> None:
    from spacesmith.tools.spaces.schema import parse_info

    eps = parse_info({"named_endpoints": {"/x": {"parameters": [{
        "parameter_name": "n", "type": {"type": "number",
                                        "description": "between 1.2.3 and 4 steps"}}]}}},
        space="s")
    assert eps["/x"].parameters[0].minimum is None


SSE_CORPUS: dict[str, tuple[str, type[SpacesmithError], str]] = {
    "no complete": ("event: heartbeat\ndata: null\n\n", TransientSpaceError, "without a result"),
    "empty": ("", TransientSpaceError, "without a result"),
    "garbage": ("\x00\x01 not sse at all\n\n", TransientSpaceError, "without a result"),
    "error null": ("event: error\ndata: null\n\n", SpacesmithError, "without a message"),
    "error html": ('event: error\ndata: {"error": "<b>boom</b>"}\n\n', SpacesmithError,
                   "boom"),
    "error deep json": ("event: error\ndata: " + "[" * 50_000 + "\n\n", SpacesmithError,
                        "reported an error"),
    "error list": ("event: error\ndata: [1, 2]\n\n", SpacesmithError, "without a message"),
}


@pytest.fixture
def space() -> Iterator[FakeSpace]:
    with fake_space() as running:
        yield running


@pytest.mark.parametrize("name", sorted(SSE_CORPUS))
def test_malformed_result_streams(space: FakeSpace, tmp_path: Path, name: str) -> None:
    from spacesmith.tools.spaces.client import SpaceClient
    from spacesmith.tools.spaces.retry import RetryPolicy

    stream, error, fragment = SSE_CORPUS[name]
    space.gradio([])
    space.text_route("/gradio_api/call/generate/ev1", stream, content_type="text/event-stream")
    with (SpaceClient.connect(space.url, token="", retry=RetryPolicy(attempts=1)) as client,
          pytest.raises(error) as info):
        client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert fragment in info.value.message and "\n" not in str(info.value)


def test_complete_event_with_odd_outputs_is_not_a_crash(space: FakeSpace,
                                                        tmp_path: Path) -> None:
    from spacesmith.tools.spaces.client import SpaceClient

    space.gradio([])
    for data in ("null", '"just text"', "{}", "[[[]]]", "not json"):
        space.text_route("/gradio_api/call/generate/ev1", f"event: complete\ndata: {data}\n\n",
                         content_type="text/event-stream")
        with SpaceClient.connect(space.url, token="") as client:
            result = client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
        assert result.files == []


# --- CLI: spaces inspect ------------------------------------------------------------------


INSPECT_CASES: dict[str, tuple[dict[str, tuple[int, str, str]], str]] = {
    # route -> (status, content type, body); expected message fragment
    "agents.md without lines": ({"/agents.md": (200, "text/plain", "hello")}, "API schema"),
    "info not json": ({"/agents.md": (404, "text/plain", ""),
                       "/gradio_api/info": (200, "application/json", "{nope")}, "JSON"),
    "info wrong shape": ({"/agents.md": (404, "text/plain", ""),
                          "/gradio_api/info": (200, "application/json", "[1, 2]")},
                         "named_endpoints"),
    "html everywhere": ({"/agents.md": (200, "text/html", "<html>hi</html>"),
                         "/gradio_api/info": (200, "text/html", "<html>hi</html>")},
                        "no Gradio API"),
    "nothing": ({}, "found no agents.md"),
    "agents.md forbidden": ({"/agents.md": (403, "text/plain", "no")}, "HTTP 403"),
}


@pytest.mark.parametrize("name", sorted(INSPECT_CASES))
def test_cli_spaces_inspect_bad_space(space: FakeSpace, capsys: pytest.CaptureFixture[str],
                                      name: str) -> None:
    routes, fragment = INSPECT_CASES[name]
    for path, (status, ctype, body) in routes.items():
        space.text_route(path, body, status=status, content_type=ctype)
    code = main(["spaces", "inspect", space.url])
    one_error_line(capsys, code, 1, fragment)


def test_cli_spaces_inspect_hostile_agents_md(space: FakeSpace,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text, _ = agents_md_corpus("evil.example")["foreign schema"]
    space.text_route("/agents.md", text.replace("https://evil.example", "http://evil.example"))
    code = main(["spaces", "inspect", space.url])
    line = one_error_line(capsys, code, 1, "evil.example")
    assert "not at the Space's own host" in line


@pytest.mark.parametrize("bad", ["not a space", "ftp://x/y", "", "a/b/c", "http://"])
def test_cli_spaces_inspect_unreadable_name(capsys: pytest.CaptureFixture[str],
                                            bad: str) -> None:
    code = main(["spaces", "inspect", bad])
    one_error_line(capsys, code, DiscoveryError.exit_code, "neither a Hub id")


# --- splat files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ply_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    base = tmp_path_factory.mktemp("ply")
    out = {}
    for i, (name, (data, fragment)) in enumerate(ply_corpus(base).items()):
        path = base / f"bad{i}.ply"
        path.write_bytes(data)
        out[name] = (path, fragment)
    return out


@pytest.fixture(scope="module")
def other_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    base = tmp_path_factory.mktemp("other")
    out = {}
    for i, (name, (suffix, data, fragment)) in enumerate(other_splat_corpus(base).items()):
        path = base / f"bad{i}{suffix}"
        path.write_bytes(data)
        out[name] = (path, fragment)
    return out


def _ply_names() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return sorted(ply_corpus(Path(tmp)))


def _other_names() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return sorted(other_splat_corpus(Path(tmp)))


@pytest.mark.parametrize("name", _ply_names())
def test_malformed_ply(ply_files: dict[str, tuple[Path, str]], name: str) -> None:
    from spacesmith.tools.splat.io import read_splat_file

    path, fragment = ply_files[name]
    with pytest.raises(SplatFormatError) as info:
        read_splat_file(path)
    assert fragment in info.value.message


@pytest.mark.parametrize("name", _other_names())
def test_malformed_web_splats(other_files: dict[str, tuple[Path, str]], name: str) -> None:
    from spacesmith.tools.splat.io import read_splat_file

    path, fragment = other_files[name]
    with pytest.raises(SplatFormatError) as info:
        read_splat_file(path)
    assert fragment in info.value.message


@pytest.mark.parametrize("name", _ply_names())
def test_cli_splat_info_and_convert_bad_ply(ply_files: dict[str, tuple[Path, str]],
                                            capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            name: str) -> None:
    path, fragment = ply_files[name]
    one_error_line(capsys, main(["splat", "info", str(path)]), 2, fragment)
    if name in ("nan", "inf"):
        return  # convert drops non-finite splats by design
    out = tmp_path / "out.spz"
    one_error_line(capsys, main(["splat", "convert", str(path), str(out)]), 2, fragment)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no partial output left behind


@pytest.mark.parametrize("name", _other_names())
def test_cli_splat_info_bad_web_splat(other_files: dict[str, tuple[Path, str]],
                                      capsys: pytest.CaptureFixture[str], name: str) -> None:
    path, fragment = other_files[name]
    one_error_line(capsys, main(["splat", "info", str(path)]), 2, fragment)


def test_cli_splat_convert_bad_arguments(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.ply"
    valid_ply(good)
    cases = [
        (["splat", "info", str(tmp_path / "missing.ply")], 2, "no such file"),
        (["splat", "info", str(tmp_path)], 2, ""),
        (["splat", "convert", str(good), str(tmp_path / "out.obj")], 1, ".obj"),  # SplatError
        (["splat", "convert", str(tmp_path / "missing.ply"), str(tmp_path / "o.spz")], 2, ""),
    ]
    for argv, code, fragment in cases:
        one_error_line(capsys, main(argv), code, fragment)


# --- gallery JSON -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gallery_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("gallery")
    valid_ply(base / "a.ply")
    (base / "bad.ply").write_bytes(b"ply\nformat ascii 1.0\n")
    (base / "notes.txt").write_text("not a splat")
    return base


@pytest.mark.parametrize("name", sorted(GALLERY_CORPUS))
def test_cli_site_build_bad_gallery(gallery_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str], name: str) -> None:
    text, fragment = GALLERY_CORPUS[name]
    path = gallery_dir / f"g-{abs(hash(name))}.json"
    path.write_text(text)
    out = tmp_path / "site"
    code = main(["site", "build", str(path), "-o", str(out), "--no-npm"])
    one_error_line(capsys, code, 2, fragment)
    assert not (out / "index.html").exists()


def test_cli_site_build_binary_gallery(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "g.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    one_error_line(capsys, main(["site", "build", str(path), "-o", str(tmp_path / "s"),
                                 "--no-npm"]), 2, "UTF-8")
    one_error_line(capsys, main(["site", "build", str(tmp_path / "none.json"), "-o",
                                 str(tmp_path / "s"), "--no-npm"]), 2, "cannot read")


# --- goal files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOAL_CORPUS))
def test_cli_run_bad_goal_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               name: str) -> None:
    text, fragment = GOAL_CORPUS[name]
    path = tmp_path / "goal.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    one_error_line(capsys, main(["run", str(path)]), 2, fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["goal.toml"]  # nothing started


def test_cli_run_missing_goal_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_error_line(capsys, main(["run", str(tmp_path / "nope.toml")]), 2, "cannot read")


def test_cli_errors_go_through_a_real_process(tmp_path: Path) -> None:
    """The installed entry point, not just main(): one line, exit 2, no traceback."""
    import subprocess
    import sys

    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex -3\nend_header\n")
    proc = subprocess.run([sys.executable, "-m", "spacesmith", "splat", "info", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: ")
    assert "Traceback" not in proc.stderr
