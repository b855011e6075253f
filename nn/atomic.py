"""Writing a file so that a crash never leaves half of it: the bytes go to a temporary
file in the same directory, which is flushed to disk and then renamed over the target
(`os.replace` is atomic on POSIX and Windows). Readers see the old file or the new one."""
from __future__ import annotations

import os
import uuid


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
