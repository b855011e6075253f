"""The char_lm demo in quick mode (the ordering of validation losses it claims, samples,
pictures), and the names corpus loader (found locally, SHA-256 checked)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nn.data import names as names_data
from nn.data.mnist import DatasetError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LOCAL_COPY = Path("/tmp/names_pkg") / names_data.TARBALL


def local_tarball() -> Path:
    """A verified copy of names-0.3.0.tar.gz already on this machine, else skip."""
    for directory in [LOCAL_COPY.parent, *names_data.search_directories()]:
        candidate = directory / names_data.TARBALL
        if candidate.is_file() and names_data.sha256(candidate) == names_data.SHA256:
            return candidate
    pytest.skip(f"{names_data.TARBALL} not found locally (the demo would download it)")


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
