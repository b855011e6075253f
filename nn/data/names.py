"""First names (US census 1990 lists), from the PyPI package `names` 0.3.0, for the
character-level language models of `demos/char_lm.py`.

The corpus is the source distribution `names-0.3.0.tar.gz` (SHA-256 `SHA256` below), whose
`names/dist.male.first` and `names/dist.female.first` list one name a line as
`NAME FREQ CUMFREQ RANK`. The tarball is looked for, in this order:

1. in `root` (directly in it, or in `root/names`), when given;
2. in `$AUTODIFF_DATA/names`, when that variable is set;
3. in the user cache `~/.cache/autodiff/names`;
4. else it is fetched into the user cache with
   `python -m pip download names==0.3.0 --no-deps --no-binary :all: -d <temporary dir>`.

Every candidate file's SHA-256 is checked before it is opened: a mismatch raises
`DatasetError` naming the file, the expected and the actual digest (a tampered or truncated
file is never read, nor silently replaced). The two lists are read as tarfile members into
memory; nothing is extracted to disk and nothing from the package is imported or run by
this module. (pip itself, to download an sdist, prepares its metadata, which runs the
package's setup.py in pip's isolated build environment; place a copy of the tarball in one
of the folders above to avoid that.)
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .mnist import DatasetError

PACKAGE = "names==0.3.0"
TARBALL = "names-0.3.0.tar.gz"
SHA256 = "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"
MEMBERS = ("names-0.3.0/names/dist.male.first", "names-0.3.0/names/dist.female.first")

_cache: dict[tuple[str, int, int], list[str]] = {}   # (path, size, mtime) -> names

__all__ = ["SHA256", "cache_directory", "find_tarball", "first_names", "read_first_names",
           "search_directories", "verify"]


def cache_directory() -> Path:
    """Where the download goes: ~/.cache/autodiff/names."""
    return Path.home() / ".cache" / "autodiff" / "names"


def search_directories(root: str | os.PathLike | None = None) -> list[Path]:
    """The folders the tarball is looked for in, in order."""
    directories = []
    if root is not None:
        directories += [Path(root), Path(root) / "names"]
    if os.environ.get("AUTODIFF_DATA"):
        directories.append(Path(os.environ["AUTODIFF_DATA"]) / "names")
    directories.append(cache_directory())
    return directories


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path) -> Path:
    """`path` if its SHA-256 is `SHA256`; else DatasetError naming both digests."""
    actual = sha256(path)
    if actual != SHA256:
        raise DatasetError(f"{path}: SHA-256 mismatch for {TARBALL}: expected {SHA256}, "
                           f"got {actual}; the file is corrupt or not the PyPI sdist of "
                           f"{PACKAGE} (delete it to download it again)")
    return path


def download(directory: Path) -> Path:
    """Fetch the sdist with pip into a temporary folder, verify it, then move it into
    `directory` (so a bad download never lands in the cache)."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as temporary:
        command = [sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps",
                   "--no-binary", ":all:", "-d", temporary]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        fetched = Path(temporary) / TARBALL
        if done.returncode != 0 or not fetched.is_file():
            raise DatasetError(f"could not download {PACKAGE} with `{' '.join(command)}` "
                               f"(exit status {done.returncode}): {done.stderr.strip()[-500:]}"
                               f"; or place {TARBALL} (SHA-256 {SHA256}) in one of "
                               f"{', '.join(map(str, search_directories()))}")
        verify(fetched)
        target = directory / TARBALL
        os.replace(fetched, target)
    return target


def find_tarball(root: str | os.PathLike | None = None, download_missing: bool = True) -> Path:
    """The verified tarball: the first one found in `search_directories(root)`, else a
    download into the cache. A found file with the wrong SHA-256 raises DatasetError."""
    for directory in search_directories(root):
        candidate = directory / TARBALL
        if candidate.is_file():
            return verify(candidate)
    if not download_missing:
        raise DatasetError(f"{TARBALL} not found in "
                           f"{', '.join(map(str, search_directories(root)))}")
    return download(cache_directory())


def read_first_names(tarball: Path) -> list[str]:
    """The male and female first names of the (already verified) tarball: lowercase,
    letters a-z only, unique, sorted. Members are read into memory, never extracted."""
    names: set[str] = set()
    with tarfile.open(tarball, mode="r:gz") as archive:
        for member in MEMBERS:
            info = archive.getmember(member)
            if not info.isfile():
                raise DatasetError(f"{tarball}: {member} is not a regular file")
            text = archive.extractfile(info).read().decode("ascii")
            for line in text.splitlines():
                fields = line.split()
                if fields:
                    name = fields[0].lower()
                    if name.isascii() and name.isalpha():
                        names.add(name)
    if not names:
        raise DatasetError(f"{tarball}: no names found in {', '.join(MEMBERS)}")
    return sorted(names)


def first_names(root: str | os.PathLike | None = None) -> list[str]:
    """The first names of the census lists (male and female together): lowercase, letters
    only, unique, sorted (5,000 or so). See the module docstring for where the tarball
    is looked for; its SHA-256 is checked every time before it is read."""
    tarball = find_tarball(root)
    stat = tarball.stat()
    key = (str(tarball.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        _cache[key] = read_first_names(tarball)
    return list(_cache[key])

