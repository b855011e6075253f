"""The char_lm demo in quick mode (the ordering of validation losses it claims, samples,
pictures), and the names corpus loader (found locally or downloaded, SHA-256 checked)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nn.data import names as names_data
from nn.data.mnist import DatasetError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def local_tarball() -> Path:
    """A verified copy of names-0.3.0.tar.gz: found on this machine or downloaded into the
    user cache; skipped only when neither works (an offline machine without a copy)."""
    try:
        return names_data.find_tarball()
    except DatasetError as err:
        if "could not download" not in str(err):
            raise
        pytest.skip(f"{names_data.TARBALL} is not on this machine and cannot be downloaded: "
                    f"{err}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copy(local_tarball(), tmp_path / names_data.TARBALL)
    return tmp_path


def test_first_names_from_a_local_copy(root, monkeypatch):
    monkeypatch.setattr(names_data, "download", lambda directory: pytest.fail("downloaded"))
    found = names_data.first_names(root)
    assert 5000 < len(found) < 5500
    assert found == sorted(set(found))
    assert all(re.fullmatch(r"[a-z]+", n) for n in found)
    assert {"mary", "james", "emma", "john"} <= set(found)


def test_a_tampered_tarball_is_refused(root, monkeypatch):
    monkeypatch.setattr(names_data, "download", lambda directory: pytest.fail("downloaded"))
    tarball = root / names_data.TARBALL
    data = bytearray(tarball.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tarball.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=f"expected {names_data.SHA256}, got [0-9a-f]{{64}}"):
        names_data.first_names(root)


def test_a_download_with_the_wrong_digest_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(names_data, "fetch", lambda url, label: b"not the names sdist")
    with pytest.raises(DatasetError, match=f"expected {names_data.SHA256}, got [0-9a-f]{{64}}; "
                                           "nothing was written"):
        names_data.download(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_failed_download_says_where_to_put_a_copy(tmp_path, monkeypatch):
    def offline(url: str, label: str) -> bytes:
        raise OSError("network is unreachable")
    monkeypatch.setattr(names_data, "fetch", offline)
    with pytest.raises(DatasetError, match=r"could not download names==0\.3\.0 from https:.*"
                                           r"unreachable; or place names-0\.3\.0\.tar\.gz"):
        names_data.download(tmp_path)


def test_a_download_is_verified_then_cached(root, tmp_path, monkeypatch):
    payload = (root / names_data.TARBALL).read_bytes()
    monkeypatch.setattr(names_data, "fetch", lambda url, label: payload)
    path = names_data.download(tmp_path / "cache")
    assert path == tmp_path / "cache" / names_data.TARBALL
    assert path.read_bytes() == payload


@pytest.fixture(scope="module")
def quick_run(run_quick, tmp_path_factory):
    """The demo's quick run, with $AUTODIFF_DATA pointing at a folder holding a local copy
    of the tarball (no download in the tests; skipped without a copy)."""
    folder = tmp_path_factory.mktemp("data")
    (folder / "names").mkdir()
    shutil.copy(local_tarball(), folder / "names" / names_data.TARBALL)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTODIFF_DATA", str(folder))
        return run_quick("char_lm")


def test_quick_run_orders_the_models(quick_run):
    results, _ = quick_run
    losses = results["losses"]
    assert losses["transformer"] < losses["bigram"] < losses["unigram"] < 3.2958  # ln 27
    for claim in ("bigram < unigram", "transformer < bigram"):
        assert results["gaps"][claim] >= results["margins"][claim]
    flags = [r["agrees"] for r in results["comparison"]]
    assert False not in flags and flags.count(True) == 2


def test_the_bigram_and_mlp_steps_replay_compiled(quick_run):
    results, _ = quick_run
    settings = results["settings"]
    assert results["curves"]["bigram"]["replays"] == settings["bigram_steps"] - 1
    assert results["curves"]["MLP"]["replays"] == settings["mlp_steps"] - 1
    assert "replays" not in results["curves"]["transformer"]


def test_quick_run_samples_letters(quick_run):
    results, _ = quick_run
    samples = results["samples"]
    assert set(samples) == {"unigram", "bigram", "MLP", "transformer"}
    for drawn in samples.values():
        assert len(drawn) == 10 and all(re.fullmatch(r"[a-z]*", s) for s in drawn)
    assert any(samples["transformer"])


def test_quick_run_pictures(quick_run):
    _, directory = quick_run
    for picture in ("losses.png", "attention.png"):
        assert (directory / picture).read_bytes()[:8] == PNG_SIGNATURE
