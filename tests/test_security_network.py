"""Security over HTTP: the token reaches only the Space's own origin, downloaded names stay in
the output folder, oversized downloads are cut off.

Two stdlib servers on 127.0.0.1 with different ports: the Space, and a "foreign host" that
records what it gets. ``spacesmith.tools.hub.auth.may_send_token`` defines the Space's own
origin as the
exact ``host:port`` (any scheme), plus Hugging Face hosts over https; another port on the
same address is another origin, and is tested as such.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from spacesmith.tools.errors import AgentsMdError, DownloadError, ForeignHostError
from spacesmith.tools.hub.auth import auth_headers, may_send_token
from spacesmith.tools.spaces.client import SpaceClient
from spacesmith.tools.spaces.retry import RetryPolicy
from tests.corpus.fake_space import FakeSpace, fake_space

TOKEN = "hf_CANARYnetwork5d1e0b7a93c4"


@pytest.fixture
def space() -> Iterator[FakeSpace]:
    with fake_space() as running:
        yield running


@pytest.fixture
def foreign() -> Iterator[FakeSpace]:
    with fake_space() as running:
        running.text_route("/agents.md", "foreign")
        running.text_route("/file", "FOREIGN BYTES")
        yield running


def _filedata(path: str, *, url: str | None = None, name: str | None = None) -> dict[str, object]:
    fd: dict[str, object] = {"path": path, "meta": {"_type": "gradio.FileData"}}
    if url is not None:
        fd["url"] = url
    if name is not None:
        fd["orig_name"] = name
    return fd


def _connect(space: FakeSpace, **kwargs: object) -> SpaceClient:
    return SpaceClient.connect(space.url, token=TOKEN, retry=RetryPolicy(attempts=1, base_s=0),
                               **kwargs)  # type: ignore[arg-type]


# --- the rule itself ----------------------------------------------------------------------


@pytest.mark.parametrize(("url", "own", "allowed"), [
    ("http://127.0.0.1:7860/x", "127.0.0.1:7860", True),
    ("https://127.0.0.1:7860/x", "127.0.0.1:7860", True),
    ("http://127.0.0.1:7861/x", "127.0.0.1:7860", False),   # another port: another origin
    ("http://localhost:7860/x", "127.0.0.1:7860", False),   # another name for it: refused
    ("http://127.0.0.1/x", "127.0.0.1:7860", False),
    ("http://u:p@127.0.0.1:7860/x", "127.0.0.1:7860", False),
    ("http://127.0.0.1:7860@evil.example/x", "127.0.0.1:7860", False),
    ("https://OWNER-NAME.hf.space/x", "owner-name.hf.space", True),
    ("http://owner-name.hf.space/x", "owner-name.hf.space", False),  # downgraded: refused
    ("http://my-space.example:7860/x", "my-space.example:7860", False),  # not loopback
    ("https://huggingface.co/api/x", "owner-name.hf.space", True),
    ("http://huggingface.co/api/x", "owner-name.hf.space", False),  # plain http: refused
    ("https://huggingface.co:8443/x", "owner-name.hf.space", False),
    ("https://huggingface.co.evil.example/x", "owner-name.hf.space", False),
    ("https://evilhuggingface.co/x", "owner-name.hf.space", False),
    ("https://hf.space.evil.example/x", "owner-name.hf.space", False),
    ("file:///etc/passwd", "owner-name.hf.space", False),
])
def test_may_send_token_rule(url: str, own: str, allowed: bool) -> None:
    assert may_send_token(url, own) is allowed
    assert bool(auth_headers(url, TOKEN, own)) is allowed


# --- hostile agents.md, redirects, foreign output URLs ------------------------------------


def test_hostile_agents_md_naming_another_port_is_refused(space: FakeSpace,
                                                          foreign: FakeSpace) -> None:
    space.text_route("/agents.md",
                     f"API schema: GET {foreign.url}/gradio_api/info\n"
                     f"Call endpoint: POST {foreign.url}/gradio_api/call/v2/{{endpoint}} {{}}\n")
    with pytest.raises(ForeignHostError) as info:
        _connect(space)
    assert foreign.host in info.value.message and TOKEN not in str(info.value)
    assert foreign.requests == []
    assert space.auth_seen() == [f"Bearer {TOKEN}"]  # only its own agents.md saw it


def test_agents_md_redirected_to_another_host_loses_the_token(space: FakeSpace,
                                                              foreign: FakeSpace) -> None:
    space.routes["/agents.md"] = (307, {"Location": f"{foreign.url}/agents.md"}, b"")
    with pytest.raises(AgentsMdError):  # the foreign "agents.md" is not one
        _connect(space)
    assert [r.path for r in foreign.requests] == ["/agents.md"]
    assert foreign.auth_seen() == [None]
    assert all(TOKEN not in str(r.headers) for r in foreign.requests)


@pytest.mark.parametrize("route", ["/gradio_api/info", "/gradio_api/call/v2/generate",
                                   "/gradio_api/call/generate/ev1"])
def test_api_routes_redirected_elsewhere_are_not_followed(space: FakeSpace, foreign: FakeSpace,
                                                          tmp_path: Path, route: str) -> None:
    space.gradio([])
    space.routes[route] = (302, {"Location": f"{foreign.url}/file"}, b"")
    try:
        with _connect(space) as client:
            client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    except Exception as exc:
        assert TOKEN not in str(exc)
    assert foreign.auth_seen() == [None] * len(foreign.requests)


def test_download_redirected_elsewhere_loses_the_token(space: FakeSpace, foreign: FakeSpace,
                                                       tmp_path: Path) -> None:
    space.gradio([_filedata("/tmp/gradio/out.bin", name="out.bin")])
    space.routes["/gradio_api/file=/tmp/gradio/out.bin"] = (
        302, {"Location": f"{foreign.url}/file"}, b"")
    with _connect(space) as client:
        result = client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert result.files[0].read_bytes() == b"FOREIGN BYTES"
    assert [(r.path, r.authorization) for r in foreign.requests] == [("/file", None)]
    file_requests = [r for r in space.requests if r.path.startswith("/gradio_api/file=")]
    assert [r.authorization for r in file_requests] == [f"Bearer {TOKEN}"]


def test_output_url_on_another_host_is_fetched_from_the_space(space: FakeSpace,
                                                              foreign: FakeSpace,
                                                              tmp_path: Path) -> None:
    space.gradio([_filedata("/tmp/gradio/a.txt", url=f"{foreign.url}/file", name="a.txt"),
                  _filedata("/tmp/gradio/b.txt", url=f"http://{foreign.host}@{space.host}/x",
                            name="b.txt")])
    space.text_route("/gradio_api/file=/tmp/gradio/a.txt", "OWN A")
    space.text_route("/gradio_api/file=/tmp/gradio/b.txt", "OWN B")
    with _connect(space) as client:
        result = client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert [f.read_bytes() for f in result.files] == [b"OWN A", b"OWN B"]
    assert foreign.requests == []


def test_token_never_logged_or_printed(space: FakeSpace, tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    space.gradio([_filedata("/tmp/gradio/out.txt", name="out.txt")])
    space.text_route("/gradio_api/file=/tmp/gradio/out.txt", "hello")
    events: list[object] = []
    with caplog.at_level(logging.DEBUG), _connect(space, progress=events.append) as client:
        result = client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
        text = f"{client!r} {result!r} {result.to_json()} {client.spec!r}"
    out, err = capsys.readouterr()
    assert caplog.records, "debug logging should have recorded the requests"
    everything = caplog.text + out + err + text + repr(events)
    assert TOKEN not in everything
    assert all(r.authorization == f"Bearer {TOKEN}" for r in space.requests)


# --- downloaded names and sizes -----------------------------------------------------------


HOSTILE_NAMES = ["../../escape.txt", "/etc/passwd", "..\\..\\win.txt", "a\x00b.txt", "..", ".",
                 "", "x" * 5000 + ".txt", "sub/dir/../../up.txt", "~/.bashrc", "%2e%2e%2fenc.txt",
                 "con.txt", ".hidden", "ünï cødé ✓.ply", "a" * 300]


def test_downloaded_names_cannot_escape_the_output_folder(space: FakeSpace,
                                                          tmp_path: Path) -> None:
    out_dir = tmp_path / "deep" / "out"
    outputs = []
    for i, name in enumerate(HOSTILE_NAMES):
        # odd: the name comes from orig_name; even: from the server path itself
        outputs.append(_filedata(f"/tmp/gradio/{i}/x.bin", name=name) if i % 2
                       else _filedata(f"/tmp/gradio/{i}/{name}"))
    space.routes["/gradio_api/file=*"] = (200, {"Content-Type": "text/plain"}, b"data")
    space.gradio(outputs)
    with _connect(space) as client:
        result = client.call("/generate", {"prompt": "x"}, out_dir=out_dir, timeout=10)
    assert len(result.files) == len(HOSTILE_NAMES)
    names = [f.name for f in result.files]
    assert len(set(n.lower() for n in names)) == len(names)
    for f in result.files:
        assert f.parent == out_dir
        assert f.resolve().is_relative_to(out_dir.resolve())
        assert len(f.name) <= 100 and "\x00" not in f.name and not f.name.startswith(".")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]


def test_existing_files_are_never_overwritten(space: FakeSpace, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    space.gradio([_filedata("/tmp/gradio/keep.txt", name="keep.txt")])
    space.text_route("/gradio_api/file=/tmp/gradio/keep.txt", "theirs")
    with _connect(space) as client:
        result = client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert result.files[0].name != "keep.txt" and result.files[0].read_text() == "theirs"


def _big(space: FakeSpace, size: int, *, declare: bool) -> None:
    space.gradio([_filedata("/tmp/gradio/big.bin", name="big.bin")])
    headers = {"Content-Type": "application/octet-stream"}
    if not declare:  # no Content-Length at all: the body runs to the connection's end
        headers["Content-Length"] = ""
    space.routes["/gradio_api/file=/tmp/gradio/big.bin"] = (200, headers, b"\x01" * size)


@pytest.mark.parametrize("declare", [True, False])
def test_oversized_download_is_cut_off(space: FakeSpace, tmp_path: Path, declare: bool) -> None:
    _big(space, 300_000, declare=declare)
    with _connect(space, max_download_bytes=100_000) as client, \
            pytest.raises(DownloadError) as info:
        client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert "100,000-byte cap" in info.value.message
    assert "max_download_bytes" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no partial file, under any name


def test_lying_content_length_is_cut_off_at_the_cap(space: FakeSpace, tmp_path: Path) -> None:
    space.gradio([_filedata("/tmp/gradio/big.bin", name="big.bin")])

    def lie(handler: object) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Length": "10"}, b"\x02" * 10
    space.routes["/gradio_api/file=/tmp/gradio/big.bin"] = lie
    with _connect(space, max_download_bytes=5) as client, pytest.raises(DownloadError):
        client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("url", "fragment"), [
    ("data:application/octet-stream;base64," + base64.b64encode(b"x" * 400).decode(), "cap"),
    ("data:application/octet-stream;base64,@@not base64@@", "not valid base64"),
    ("data:text/plain,hello", "not base64"),
    ("data:nocomma", "not base64"),
])
def test_bad_or_oversized_data_urls(space: FakeSpace, tmp_path: Path, url: str,
                                    fragment: str) -> None:
    space.gradio([_filedata("/tmp/gradio/d.bin", url=url, name="d.bin")])
    with _connect(space, max_download_bytes=100) as client, \
            pytest.raises(DownloadError) as info:
        client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert fragment in info.value.message
    assert list(tmp_path.iterdir()) == []


def test_small_data_url_is_written(space: FakeSpace, tmp_path: Path) -> None:
    url = "data:text/plain;base64," + base64.b64encode(b"ok").decode()
    space.gradio([_filedata("/tmp/gradio/d.txt", url=url, name="d.txt")])
    with _connect(space, max_download_bytes=100) as client:
        result = client.call("/generate", {"prompt": "x"}, out_dir=tmp_path, timeout=10)
    assert result.files[0].read_bytes() == b"ok"
