"""First names (US census 1990 lists), from the PyPI package `names` 0.3.0, for the
character-level language models of `demos/char_lm.py`.

The corpus is the source distribution `names-0.3.0.tar.gz` (SHA-256 `SHA256` below), whose
`names/dist.male.first` and `names/dist.female.first` list one name a line as
`NAME FREQ CUMFREQ RANK`. The tarball is looked for, in this order:

1. in `root` (directly in it, or in `root/names`), when given;
2. in `$AUTODIFF_DATA/names`, when that variable is set;
3. in the user cache `~/.cache/autodiff/names`;
4. else it is downloaded from PyPI (`URL`, the file PyPI's simple index lists for
   names 0.3.0) into the user cache.

Every candidate file's SHA-256 is checked before it is opened: a mismatch raises
`DatasetError` naming the file, the expected and the actual digest (a tampered or truncated
file is never read, nor silently replaced). The two lists are read as tarfile members into
memory; nothing is extracted to disk and nothing from the package is imported or run by
this module, and the download is a plain HTTPS fetch of the file (no pip, so no setup.py
runs). A download is checked in memory and written to the cache only if its digest matches.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

from autodiff.io import write_atomically

from .mnist import DatasetError, fetch

PACKAGE = "names==0.3.0"
TARBALL = "names-0.3.0.tar.gz"
SHA256 = "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"
URL = ("https://files.pythonhosted.org/packages/44/4e/"
       "f9cb7ef2df0250f4ba3334fbdabaa94f9c88097089763d8e85ada8092f84/" + TARBALL)
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
    """Fetch `URL`, check its SHA-256 in memory, then write it atomically into `directory`
    (so a bad or partial download never lands in the cache)."""
    import http.client  # networking is loaded only when a download happens
    try:
        raw = fetch(URL, TARBALL)
    except (OSError, http.client.HTTPException) as err:
        raise DatasetError(f"could not download {PACKAGE} from {URL}: {err}; or place "
                           f"{TARBALL} (SHA-256 {SHA256}) in one of "
                           f"{', '.join(map(str, search_directories()))}") from err
    actual = hashlib.sha256(raw).hexdigest()
    if actual != SHA256:
        raise DatasetError(f"{URL}: SHA-256 mismatch for {TARBALL}: expected {SHA256}, got "
                           f"{actual}; nothing was written")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / TARBALL
    write_atomically(target, raw)
    return target


def find_tarball(root: str | os.PathLike | None = None) -> Path:
    """The verified tarball: the first one found in `search_directories(root)`, else a
    download into the cache. A found file with the wrong SHA-256 raises DatasetError."""
    for directory in search_directories(root):
        candidate = directory / TARBALL
        if candidate.is_file():
            return verify(candidate)
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

