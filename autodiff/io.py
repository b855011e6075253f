"""Tensor files: named arrays and string metadata in the safetensors format, checked
before they are trusted and written atomically. Model files (`nn.save`) and optimizer
state files (`optim.save_state`) are both built on this one format.

A safetensors file is an 8-byte little-endian header length N, then N bytes of JSON:
`{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...], "data_offsets":
[begin, end]}, ...}`, then the tensors' raw little-endian bytes, offsets counted from the
end of the header. Every file is checked against that description here, before the
`safetensors` package reads it: a truncated, tampered or pickled file raises
`ModelFileError` naming the file and the problem. Nothing in a file is ever executed.

Writing goes to a temporary file in the same directory, which is flushed to disk and
then renamed over the target (`os.replace` is atomic on POSIX and Windows): readers see
the old file or the new one, never half of one.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any

import numpy as np

from ._optional import require
from .errors import DtypeError, ModelFileError
from .tensor import array_of

# safetensors dtype codes numpy can hold, and back
DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
          "U16": np.dtype(np.uint16), "I16": np.dtype(np.int16), "F16": np.dtype(np.float16),
          "U32": np.dtype(np.uint32), "I32": np.dtype(np.int32), "F32": np.dtype(np.float32),
          "U64": np.dtype(np.uint64), "I64": np.dtype(np.int64), "F64": np.dtype(np.float64)}
CODES = {dtype: code for code, dtype in DTYPES.items()}
PURPOSE = "nn.save / nn.load / optim.save_state / optim.load_state (safetensors files)"


# ------------------------------------------------------------------ tensors in a file

def save_tensors(path: str | os.PathLike, tensors: dict[str, Any],
                 metadata: dict[str, str] | None = None) -> None:
    """Write named arrays (or tensors) and string metadata to a safetensors file, atomically.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.safetensors"
    >>> save_tensors(path, {"step": np.array(3)}, {"note": "hello"})
    >>> load_tensors(path)
    ({'step': array(3)}, {'note': 'hello'})
    """
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"save_tensors: tensor names must be non-empty strings other "
                             f"than '__metadata__', got {name!r}")
        array = np.asarray(array_of(value), order="C")
        if array.dtype not in CODES:
            raise DtypeError(f"save_tensors: tensor {name!r} has dtype {array.dtype}, which a "
                             f"safetensors file cannot hold here; use one of "
                             f"{sorted(str(d) for d in CODES)}")
        arrays[name] = array
    metadata = dict(metadata or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError(f"save_tensors: metadata must map strings to strings (safetensors "
                        f"stores text only), got {metadata!r}")
    safetensors_numpy = require("safetensors.numpy", "io", PURPOSE)
    write_atomically(path, safetensors_numpy.save(arrays, metadata=metadata or None))


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and metadata of a safetensors file, after checking its header.

    Raises ModelFileError (naming the file) when the file is truncated, tampered with,
    a pickle or zip archive (as torch.save writes), or otherwise not safetensors.
    """
    source = os.fspath(path)
    with open(source, "rb") as file:
        data = file.read()
    entries, metadata = read_header(data, source)
    safetensors = require("safetensors", "io", PURPOSE)
    safetensors_numpy = require("safetensors.numpy", "io", PURPOSE)
    try:
        arrays = safetensors_numpy.load(data)
    except safetensors.SafetensorError as err:
        raise ModelFileError(f"{source}: safetensors rejected the file: {err}") from err
    return {name: np.array(arrays[name]) for name in entries}, metadata


def read_header(data: bytes, source: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Check a safetensors file's bytes and return its tensor entries (in data order)
    and metadata. Every tensor's dtype must be known, its byte range must match
    shape × itemsize, and the ranges must tile the data section exactly: contiguous,
    non-overlapping, nothing missing and nothing after."""
    if len(data) < 8:
        raise _not_safetensors(data, source, f"{len(data)} bytes, fewer than the 8-byte "
                                             f"header length every safetensors file starts with")
    length = int.from_bytes(data[:8], "little")
    if length > len(data) - 8:
        raise _not_safetensors(data, source, f"its header length says {length} bytes but "
                                             f"only {len(data) - 8} follow: truncated, or not "
                                             f"safetensors at all")
    if data[8:9] != b"{":
        raise _not_safetensors(data, source, "its header is not a JSON object")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"),
                            object_pairs_hook=no_duplicate_keys)
    except (ValueError, RecursionError) as err:
        raise ModelFileError(f"{source}: tampered safetensors file: its header is not "
                             f"valid JSON ({err})") from err
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{source}: tampered safetensors file: __metadata__ must map "
                             f"strings to strings")
    for name, entry in header.items():
        _check_entry(name, entry, source)
    ordered = sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"]))
    position = 0
    for name, entry in ordered:
        begin, end = entry["data_offsets"]
        if begin != position:
            raise ModelFileError(f"{source}: tampered safetensors file: tensor {name!r} starts "
                                 f"at byte {begin} of the data, expected {position}: the "
                                 f"tensors overlap or leave a gap")
        position = end
    size = len(data) - 8 - length
    if position != size:
        problem = "truncated" if position > size else f"{size - position} stray bytes at the end"
        raise ModelFileError(f"{source}: safetensors file {problem}: its tensors need "
                             f"{position} bytes of data, the file holds {size}")
    return dict(ordered), metadata


def _check_entry(name: str, entry: Any, source: str) -> None:
    where = f"{source}: tampered safetensors file: tensor {name!r}"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(f"{where}: its header entry must hold exactly dtype, shape and "
                             f"data_offsets, got {entry!r:.200}")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if code not in DTYPES:
        raise ModelFileError(f"{where}: unknown or unsupported dtype {code!r}; numpy can "
                             f"hold {sorted(DTYPES)}")
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise ModelFileError(f"{where}: shape must be a list of non-negative ints, got "
                             f"{shape!r:.200}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_count, offsets)) \
            or offsets[0] > offsets[1]:
        raise ModelFileError(f"{where}: data_offsets must be [begin, end] with "
                             f"0 <= begin <= end, got {offsets!r:.200}")
    needed = int(np.prod(shape, dtype=object)) * DTYPES[code].itemsize
    if offsets[1] - offsets[0] != needed:
        raise ModelFileError(f"{where}: data_offsets {offsets} span {offsets[1] - offsets[0]} "
                             f"bytes, but shape {shape} of {code} needs {needed}")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads' object_pairs_hook: a JSON object, refusing keys given twice."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def _not_safetensors(data: bytes, source: str, problem: str) -> ModelFileError:
    """The error for a file that is not safetensors, recognising what it is instead."""
    advice = ("autodiff never unpickles (unpickling can run any code); in PyTorch, convert "
              "it with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')")
    if data[:4] == b"PK\x03\x04":
        return ModelFileError(f"{source}: a zip archive (what torch.save writes), not a "
                              f"safetensors file; {advice}")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ModelFileError(f"{source}: a Python pickle, not a safetensors file; {advice}")
    return ModelFileError(f"{source}: not a valid safetensors file: {problem}")


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` all at once or not at all.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "numbers.bin"
    >>> write_atomically(target, b"0123")
    >>> target.read_bytes()
    b'0123'
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.tmp")
    # O_EXCL: never reuse someone else's file; mode 0o666 lets the umask decide, as open() does
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
