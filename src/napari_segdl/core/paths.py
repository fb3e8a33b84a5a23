"""Output folders checked before any work starts, so a long run never fails at its end."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import SegDLError


def writable_folder(folder: str | os.PathLike, what: str, advice: str = "") -> Path:
    """``folder``, created if needed, after writing and removing a probe file in it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise SegDLError(
            f"Cannot write {what} to '{folder}': {error.strerror or error}. Choose a folder "
            f"you can write to{advice}."
        ) from error
    return folder
