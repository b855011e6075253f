"""MNIST, the 70,000 handwritten digits (LeCun, Cortes & Burges), found on disk or downloaded.

The four files are looked for, in this order:

1. in `root` (the files directly in it, or in `root/mnist`), when given;
2. in `$AUTODIFF_DATA/mnist`, when that variable is set;
3. in the user cache `~/.cache/autodiff/mnist`;
4. with `download=True`, on the public mirrors of `MNIST.mirrors`, tried in turn; the file
   is saved into `root`, or else the user cache.

Files may be gzip-compressed (`.gz`, as on the mirrors) or not. The uncompressed content of
each is checked against its md5 and parsed as IDX (magic number, dimensions and size
checked) before anything is used: a corrupt or truncated file raises `DatasetError`
naming it, and is never half-used or silently replaced. Downloads are verified before
they are written, and written atomically. Parsed arrays are kept for the rest of the
process, so a second `MNIST()` costs nothing.
"""
from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np

import autodiff as ad
from autodiff.errors import AutodiffError
from autodiff.io import write_atomically

from .dataset import Dataset

MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/",
           "http://yann.lecun.com/exdb/mnist/")


class DatasetError(AutodiffError, OSError):
    """A dataset file is missing, corrupt or truncated, or could not be downloaded."""


class IdxFile(NamedTuple):
    """One MNIST file: its name on the mirrors (without .gz), the md5 of its uncompressed
    content, its IDX magic number (0x0803: unsigned bytes in 3 dimensions; 0x0801: in 1)
    and the shape its header must give."""
    name: str
    md5: str
    magic: int
    shape: tuple[int, ...]


SPLITS = {
    True: (IdxFile("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", 0x0803,
                   (60000, 28, 28)),
           IdxFile("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", 0x0801,
                   (60000,))),
    False: (IdxFile("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", 0x0803,
                    (10000, 28, 28)),
            IdxFile("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", 0x0801,
                    (10000,))),
}

_parsed: dict[tuple[str, int, int], np.ndarray] = {}   # (path, size, mtime) -> read-only array


class MNIST(Dataset):
    """The MNIST digits: 60,000 training or 10,000 test images of 28×28 grey pixels.

    Sample i is `(image, label)`: the image a float32 tensor with values in [0, 1]
    (pixel / 255, no other normalisation), of shape (1, 28, 28) like torchvision's
    `MNIST` with `ToTensor()`, or (784,) with `flatten=True`; the label a Python int
    0–9. Through a `DataLoader`, batches are `[images, labels]`: float32 (B, 1, 28, 28)
    (or (B, 784)) and int64 (B,), gathered by array indexing, without a Python loop.

    Args:
        root: a folder holding the files (or holding `mnist/` with them); looked in
            first, and where downloads go. Default None: see the search order below.
        train: the 60,000 training images (True, default) or the 10,000 test images.
        download: fetch files found nowhere on disk from the mirrors (default True).
        flatten: give each image as a vector of 784 values instead of (1, 28, 28).

    Search order: `root`, `$AUTODIFF_DATA/mnist`, `~/.cache/autodiff/mnist`, then the
    mirrors in `MNIST.mirrors` (a class attribute: assign a list of URL prefixes to use
    others). Every file is checked against the md5 of its uncompressed content.

    Attributes:
        data: the images as a read-only uint8 tensor (N, 28, 28), as in torchvision.
        targets: the labels as an int64 tensor (N,).

    Example::

        >>> train = MNIST(train=True)                          # doctest: +SKIP
        >>> loader = DataLoader(train, batch_size=15, shuffle=True)   # doctest: +SKIP
        >>> xb, yb = next(iter(loader))                        # doctest: +SKIP
        >>> xb.shape, xb.dtype, yb.shape, yb.dtype             # doctest: +SKIP
        ((15, 1, 28, 28), dtype('float32'), (15,), dtype('int64'))
    """

    mirrors: ClassVar[list[str]] = list(MIRRORS)

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = True, flatten: bool = False) -> None:
        images_file, labels_file = SPLITS[bool(train)]
        images, images_path = load_idx(images_file, root, download, self.mirrors)
        labels, _ = load_idx(labels_file, root, download, self.mirrors)
        self.train = bool(train)
        self.flatten = bool(flatten)
        self.folder = images_path.parent
        self.data = ad.from_numpy(images)
        self.targets = ad.tensor(labels.astype(np.int64))
        self._image_shape = (28 * 28,) if flatten else (1, 28, 28)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[ad.Tensor, int]:
        image = self.data.numpy()[index].astype(np.float32) / np.float32(255)
        return ad.tensor(image.reshape(self._image_shape)), int(self.targets.numpy()[index])

    def get_batch(self, indices: np.ndarray) -> list[ad.Tensor]:
        """Images `indices` scaled to [0, 1] as float32, and their int64 labels."""
        images = self.data.numpy()[indices].astype(np.float32) / np.float32(255)
        images = images.reshape((len(images),) + self._image_shape)
        return [ad.tensor(images), ad.tensor(self.targets.numpy()[indices])]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return (f"MNIST({split}: {len(self)} images of shape {self._image_shape}, "
                f"from {self.folder})")


def search_directories(root: str | os.PathLike | None) -> list[Path]:
    """The folders MNIST files are looked for in, in order."""
    directories = []
    if root is not None:
        directories += [Path(root), Path(root) / "mnist"]
    if os.environ.get("AUTODIFF_DATA"):
        directories.append(Path(os.environ["AUTODIFF_DATA"]) / "mnist")
    directories.append(cache_directory())
    return directories


def cache_directory() -> Path:
    """Where downloads go when no root is given: ~/.cache/autodiff/mnist."""
    return Path.home() / ".cache" / "autodiff" / "mnist"


def load_idx(file: IdxFile, root: str | os.PathLike | None, download: bool,
             mirrors: list[str]) -> tuple[np.ndarray, Path]:
    """The verified, parsed (read-only) array of `file` and the path it came from,
    downloading it when it is on no disk and `download` is true."""
    directories = search_directories(root)
    candidates = [d / (file.name + suffix) for d in directories for suffix in (".gz", "")]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        if not download:
            raise DatasetError(
                f"MNIST: {file.name}.gz found in none of {[str(d) for d in directories]}; "
                f"pass download=True, put the file in one of them, or set $AUTODIFF_DATA "
                f"to a folder holding mnist/")
        target = Path(root) if root is not None else cache_directory()
        path = download_file(file, target, mirrors)
    status = path.stat()
    key = (str(path.resolve()), status.st_size, status.st_mtime_ns)
    if key not in _parsed:
        content = verified_content(path.read_bytes(), path.suffix == ".gz", file, str(path))
        array = read_idx(content, file.magic, file.shape, str(path))
        array.flags.writeable = False
        _parsed[key] = array
    return _parsed[key], path


def verified_content(raw: bytes, compressed: bool, file: IdxFile, source: str) -> bytes:
    """The uncompressed bytes of `raw`, after checking their md5 against `file.md5`."""
    content = inflate(raw, file, source) if compressed else raw
    digest = hashlib.md5(content, usedforsecurity=False).hexdigest()
    if digest != file.md5:
        raise DatasetError(f"{source}: corrupt MNIST file: the md5 of its uncompressed "
                           f"content is {digest}, expected {file.md5} for {file.name}; "
                           f"delete or replace it")
    return content


def inflate(raw: bytes, file: IdxFile, source: str) -> bytes:
    """The gzip content of `raw`, decompressed no further than `file` can be: its IDX header
    first, checked (`check_header`), then at most the values that header declares, plus
    one byte to tell a longer stream. A crafted file (a header declaring 2⁴⁰ values, or a
    small gzip that inflates to gigabytes) is refused before anything large is allocated."""
    header = 4 + 4 * len(file.shape)
    size = int(np.prod(file.shape))
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)     # 16 +: the gzip wrapper
    try:
        head = inflater.decompress(raw, header)
        check_header(head, file.magic, file.shape, f"{source}: corrupt MNIST file")
        body = inflater.decompress(inflater.unconsumed_tail, size + 1)
    except zlib.error as err:
        raise DatasetError(f"{source}: corrupt or truncated MNIST file: cannot "
                           f"decompress it ({err}); delete or replace it") from err
    if len(body) > size or inflater.unconsumed_tail:
        raise DatasetError(f"{source}: corrupt or truncated MNIST file: it decompresses to "
                           f"more than the {size:,} values its IDX header declares; delete "
                           f"or replace it")
    if not inflater.eof:
        raise DatasetError(f"{source}: corrupt or truncated MNIST file: its gzip stream "
                           f"ends early ({len(body):,} of {size:,} values); delete or "
                           f"replace it")
    return head + body


def read_idx(content: bytes, magic: int, shape: tuple[int, ...], source: str) -> np.ndarray:
    """Parse an IDX file of unsigned bytes: a big-endian int32 magic number (0x08 = unsigned
    byte, then the number of dimensions), one big-endian int32 per dimension, then the
    values in row-major order.

    >>> read_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]), 0x0801, (3,), "labels")
    array([7, 8, 9], dtype=uint8)
    """
    header = check_header(content, magic, shape, source)
    size = int(np.prod(shape))
    if len(content) - header != size:
        raise DatasetError(f"{source}: IDX file holds {len(content) - header} bytes of "
                           f"values, its header promises {size}: truncated or padded")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def check_header(content: bytes, magic: int, shape: tuple[int, ...], source: str) -> int:
    """Check the IDX header at the start of `content` (its magic number and dimensions
    against `magic` and `shape`); returns its length in bytes."""
    header = 4 + 4 * len(shape)
    if len(content) < header:
        raise DatasetError(f"{source}: truncated IDX file: {len(content)} bytes, fewer "
                           f"than its {header}-byte header")
    found_magic, *dims = struct.unpack(f">{1 + len(shape)}I", content[:header])
    if found_magic != magic:
        raise DatasetError(f"{source}: not the expected IDX file: magic number "
                           f"{found_magic:#06x}, expected {magic:#06x}")
    if tuple(dims) != shape:
        raise DatasetError(f"{source}: IDX header gives dimensions {tuple(dims)}, "
                           f"expected {shape}")
    return header


def download_file(file: IdxFile, directory: Path, mirrors: list[str]) -> Path:
    """Fetch `file.name + ".gz"` from the first mirror that serves a verified copy, and
    write it atomically into `directory`."""
    import http.client  # networking is loaded only when a download happens
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file.name + ".gz"
        try:
            raw = fetch(url, file.name + ".gz")
            verified_content(raw, True, file, "the downloaded file")
        except (OSError, http.client.HTTPException, ValueError) as err:
            failures.append(f"{url}: {err}")
            continue
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (file.name + ".gz")
        write_atomically(path, raw)
        return path
    tried = "\n  ".join(failures)
    raise DatasetError(f"MNIST: could not download {file.name}.gz from any mirror:\n  {tried}\n"
                       f"Check the connection, or fetch the file yourself into {directory} "
                       f"(or into $AUTODIFF_DATA/mnist)")


def fetch(url: str, label: str, timeout: float = 30.0) -> bytes:
    """The bytes at `url`, with a progress bar."""
    import urllib.request
    request = urllib.request.Request(url, headers={"User-Agent": "autodiff/0.1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        chunks = []
        bar = progress_bar(int(length) if length else None, label)
        try:
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
    return b"".join(chunks)


class _NoBar:
    """Stands in for a tqdm bar when tqdm is not installed."""

    def update(self, n: int) -> None:
        return None

    def close(self) -> None:
        return None


def progress_bar(total: int | None, label: str) -> Any:
    """A tqdm progress bar counting bytes (a silent stand-in without tqdm)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024)
