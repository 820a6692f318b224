"""Deploy against a local fake Hub with the real huggingface_hub client."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacesmith.tools.errors import AuthError, DeployError
from spacesmith.tools.hub.deploy import deploy, validate_space_id
from spacesmith.tools.site.gallery import load_gallery
from spacesmith.tools.site.render import build_site
from tests.fixtures.fake_hub import READ_TOKEN, WRITE_TOKEN, FakeHub
from tests.fixtures.site import GalleryMaker


@pytest.fixture
def site_dir(make_gallery: GalleryMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # CDN variant: a small site keeps the base64 commit small; the push is the same code path
    monkeypatch.setenv("SPACESMITH_CACHE", str(tmp_path / "no-cache"))
    with pytest.warns(UserWarning):
        return build_site(load_gallery(make_gallery(2, n=500)), tmp_path / "site", npm=None).out_dir


def local_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


def test_push_creates_a_static_space_with_exactly_the_site(site_dir: Path,
                                                           fake_hub: FakeHub) -> None:
    result = deploy(site_dir, "tester/monuments", token=WRITE_TOKEN, endpoint=fake_hub.url)
    assert result.url == f"{fake_hub.url}/spaces/tester/monuments"
    assert result.committed
    repo = fake_hub.repos["tester/monuments"]
    assert repo.repo_type == "space" and repo.sdk == "static" and not repo.private
    assert len(repo.commits) == 1
    assert repo.commits[0].added == local_files(site_dir)  # exact files and bytes
    assert set(result.files) == set(local_files(site_dir))

    again = deploy(site_dir, "tester/monuments", token=WRITE_TOKEN, endpoint=fake_hub.url)
    assert not again.committed
    assert len(repo.commits) == 1  # an unchanged site commits nothing


def test_removed_files_are_deleted_and_changes_pushed(site_dir: Path, fake_hub: FakeHub) -> None:
    deploy(site_dir, "tester/g", token=WRITE_TOKEN, endpoint=fake_hub.url, private=True)
    (site_dir / "splats" / "02-monument-2-the-arch.ply").unlink()
    (site_dir / "style.css").write_text("body { color: red }")
    result = deploy(site_dir, "tester/g", token=WRITE_TOKEN, endpoint=fake_hub.url)
    repo = fake_hub.repos["tester/g"]
    assert result.committed and repo.private
    assert repo.commits[-1].deleted == ["splats/02-monument-2-the-arch.ply"]
    assert repo.commits[-1].added == {"style.css": b"body { color: red }"}
    assert set(repo.files) == set(local_files(site_dir)) | {".gitattributes"}


def test_dry_run_lists_without_network(site_dir: Path) -> None:
    result = deploy(site_dir, "alice/gallery", dry_run=True, endpoint="http://127.0.0.1:9")
    assert not result.committed
    assert result.files == tuple(sorted(local_files(site_dir)))
    assert result.url == "http://127.0.0.1:9/spaces/alice/gallery"
    assert deploy(site_dir, "alice/gallery", dry_run=True).url == \
        "https://huggingface.co/spaces/alice/gallery"


def test_hf_endpoint_is_honoured_as_for_discovery(site_dir: Path, fake_hub: FakeHub,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url + "/")
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)  # the one token lookup: env, then the file
    result = deploy(site_dir, "tester/env")
    assert result.url == f"{fake_hub.url}/spaces/tester/env"
    assert "tester/env" in fake_hub.repos


def test_no_token(site_dir: Path, fake_hub: FakeHub) -> None:
    with pytest.raises(AuthError, match="no Hugging Face token"):
        deploy(site_dir, "tester/x", endpoint=fake_hub.url)
    assert fake_hub.requests == []


@pytest.mark.parametrize(("token", "space", "status"), [
    ("hf_wrong", "tester/x", "401"),
    (READ_TOKEN, "tester/x", "403"),
    (WRITE_TOKEN, "someone-else/x", "403"),
])
def test_no_permission(site_dir: Path, fake_hub: FakeHub, token: str, space: str,
                       status: str) -> None:
    with pytest.raises(AuthError, match=status) as info:
        deploy(site_dir, space, token=token, endpoint=fake_hub.url)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", ["monuments", "a/b/c", "/x", "a/", "a b/c", "a/..", "-a/b",
                                 "a/b.git", ""])
def test_invalid_space_id_is_refused_locally(site_dir: Path, bad: str) -> None:
    with pytest.raises(DeployError, match="invalid Space id"):
        deploy(site_dir, bad, token=WRITE_TOKEN, endpoint="http://127.0.0.1:9")


def test_valid_space_ids() -> None:
    for good in ("alice/paris", "Org-1/my_space.v2"):
        assert validate_space_id(good) == good


def test_not_a_site(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="not a built site"):
        deploy(tmp_path, "alice/x", dry_run=True)
