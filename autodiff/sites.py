"""Where the user's code is: whether a file belongs to the library (autodiff, nn, optim)
and the innermost stack frame outside it, for the lines errors, graph drawings and the
compiler's source comments name."""
from __future__ import annotations

import os
import sys
from typing import Any

_LIBRARY_DIRS = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   package) + os.sep for package in ("autodiff", "nn", "optim"))


_is_library_file: dict[str, bool] = {}


def is_library_file(filename: str) -> bool:
    """True for the files of autodiff, nn and optim."""
    library = _is_library_file.get(filename)
    if library is None:
        library = _is_library_file[filename] = filename.startswith(_LIBRARY_DIRS)
    return library


def user_frame() -> Any:
    """The innermost calling frame outside autodiff, nn and optim (the user's code)."""
    frame = sys._getframe(2)
    while frame is not None:
        if not is_library_file(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return None
